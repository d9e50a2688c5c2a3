// SPDX-License-Identifier: MIT
/*
 * Frames as text and JSON (frame-fmt.h). Every string of a frame is the
 * target's: text goes through ml_fputs_esc(), JSON through
 * report_json_str(), so a name no terminal or JSON parser accepts is
 * written the same way by report and resolve.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report/formats.h"
#include "report/frame-fmt.h"
#include "util.h"

/* pre, then s escaped */
static void put2(FILE *out, const char *pre, const char *s)
{
	fputs(pre, out);
	ml_fputs_esc(s, out);
}

/* "[System.Private.CoreLib.dll]+0x1a2b": the name already says the module. */
static bool names_module(const char *sym, const char *mod)
{
	size_t n = strlen(mod);

	return sym[0] == '[' && !strncmp(sym + 1, mod, n) && sym[n + 1] == ']';
}

/* "module+0xOFF": a stripped module's file address finds the code in
 * debug files. */
static void put_mod_offset(FILE *out, const char *mod, u64 offset)
{
	ml_fputs_esc(mod, out);
	fprintf(out, "+0x%" PRIx64, offset);
}

/* " file:line" (pre instead of the space), the line when known. */
static void put_file_line(FILE *out, const char *pre, const char *file, u32 line)
{
	put2(out, pre, file);
	if (line)
		fprintf(out, ":%u", line);
}

static void stack_line(FILE *out, const struct ml_frame *f)
{
	const char *mod = report_basename(f->module);

	if (!f->symbol && f->kind == ML_FK_NATIVE && mod && f->offset) {
		put_mod_offset(out, mod, f->offset);
		fputs(" (no symbol)", out);
		return;
	}
	if (!f->symbol) {
		/* the full path: "/memfd:doublemapper" says it is JIT code */
		fprintf(out, "0x%" PRIx64 " [%s]", f->pc,
			report_frame_kind_name(f->kind));
		if (f->module) {
			put2(out, " (in ", f->module);
			fputc(')', out);
		}
		return;
	}
	ml_fputs_esc(f->symbol, out);
	switch (f->kind) {
	case ML_FK_JIT:
	case ML_FK_R2R:
	case ML_FK_STUB:
		/* managed code: kind, tier and assembly matter, not a file:
		 * "Ns.Type::M() [jit QuickJitted, App]", "[X.dll]+0x1a2b [r2r]" */
		fprintf(out, " [%s", report_frame_kind_name(f->kind));
		if (f->tier)
			put2(out, " ", f->tier);
		if (mod && strcmp(mod, "[jit]") && !names_module(f->symbol, mod))
			put2(out, ", ", mod);
		fputc(']', out);
		break;
	case ML_FK_KERNEL:
		fputs(" [kernel]", out);
		return;
	case ML_FK_GAP:
		return;		/* the marker says it all; its pc is no address */
	default:
		if (mod) {
			put2(out, " (", mod);
			fputc(')', out);
		}
		break;
	}
	if (f->file)
		put_file_line(out, " ", report_basename(f->file), f->line);
}

static void short_line(FILE *out, const struct ml_frame *f)
{
	const char *mod = report_basename(f->module);

	if (!f->symbol) {
		if (mod && f->offset)
			put_mod_offset(out, mod, f->offset);
		else
			fprintf(out, "0x%" PRIx64, f->pc);
		return;
	}
	ml_fputs_esc(f->symbol, out);
	if (f->kind != ML_FK_NATIVE) {
		/* JIT code that knows its source (V8: "leak x.js:12") */
		if (f->file && f->line) {
			put_file_line(out, " (", report_basename(f->file), f->line);
			fputc(')', out);
		}
		return;
	}
	if (mod) {
		put2(out, " (", mod);
		if (f->file && f->line)
			put_file_line(out, ", ", report_basename(f->file), f->line);
		fputc(')', out);
	}
}

static void address_line(FILE *out, const struct ml_frame *f)
{
	const char *mod = report_basename(f->module);

	fprintf(out, "0x%" PRIx64 "  ", f->pc);
	if (f->symbol) {
		ml_fputs_esc(f->symbol, out);
		if (f->offset)
			fprintf(out, "+0x%" PRIx64, f->offset);
	} else if (f->kind == ML_FK_NATIVE && mod && f->offset) {
		put_mod_offset(out, mod, f->offset);
		fputs(" (no symbol)", out);
	} else {
		fputs("??", out);
	}
	fputs("  [", out);
	if (frame_is_managed(f))
		fputs("managed ", out);
	fputs(report_frame_kind_name(f->kind), out);
	if (f->tier)
		put2(out, " ", f->tier);
	/* unknown: the full path ("/memfd:doublemapper" says JIT memory) */
	if (f->module)
		put2(out, ", ", f->kind == ML_FK_UNKNOWN ? f->module : mod);
	fputc(']', out);
	if (f->file)
		put_file_line(out, "  ", f->file, f->line);
}

void frame_fmt_text(FILE *out, const struct ml_frame *f,
		    enum frame_fmt_style style)
{
	switch (style) {
	case FRAME_FMT_STACK:
		stack_line(out, f);
		break;
	case FRAME_FMT_SHORT:
		short_line(out, f);
		break;
	case FRAME_FMT_ADDRESS:
		address_line(out, f);
		break;
	}
}

/* Adds v under key; frees v either way. 0 or -1. */
static int set(json_t *o, const char *key, json_t *v)
{
	if (!o || !v) {
		json_decref(v);
		return -1;
	}
	return json_object_set_new(o, key, v);
}

json_t *frame_fmt_json(const struct ml_frame *f)
{
	json_t *o = json_object();
	char addr[24];
	int bad = 0;

	snprintf(addr, sizeof(addr), "0x%" PRIx64, f->pc);
	bad |= set(o, "address", json_string(addr));
	bad |= set(o, "symbol", report_json_str(f->symbol));
	bad |= set(o, "module", report_json_str(f->module));
	bad |= set(o, "file", report_json_str(f->file));
	bad |= set(o, "line", f->line ? json_integer(f->line) : json_null());
	bad |= set(o, "kind", json_string(report_frame_kind_name(f->kind)));
	bad |= set(o, "tier", report_json_str(f->tier));
	bad |= set(o, "offset", f->symbol || f->offset ? json_integer(
		   f->offset > INT64_MAX ? INT64_MAX : (json_int_t)f->offset) :
		   json_null());
	bad |= set(o, "managed", json_boolean(frame_is_managed(f)));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
