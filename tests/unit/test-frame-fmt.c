// SPDX-License-Identifier: MIT
/*
 * The one frame formatter (src/report/frame-fmt.c) of report and
 * resolve: each text style's layout, control bytes escaped in every
 * style, and JSON that cleans a name that is not UTF-8 instead of
 * failing (resolve --format json once failed where report did not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "report/frame-fmt.h"

/* frame_fmt_text() into a string (static buffer). */
static const char *text(const struct ml_frame *f, enum frame_fmt_style st)
{
	static char buf[1024];
	FILE *m = fmemopen(buf, sizeof(buf), "w");

	if (!m)
		return "(fmemopen failed)";
	frame_fmt_text(m, f, st);
	if (fclose(m))
		return "(write failed)";
	return buf;
}

static void test_text_layouts(void)
{
	struct ml_frame nat = { .pc = 0x401136, .kind = ML_FK_NATIVE, .offset = 0x16,
				.symbol = (char *)"mmap_allocation", .module = (char *)"/usr/lib/libExample.so",
				.file = (char *)"/src/example.c", .line = 42 };
	struct ml_frame jit = { .pc = 0x7f00001010, .kind = ML_FK_JIT, .offset = 0x10,
				.symbol = (char *)"App.Program::Main()", .module = (char *)"MyApp",
				.tier = (char *)"QuickJitted" };
	struct ml_frame strip = { .pc = 0x7f1000001234, .kind = ML_FK_NATIVE,
				  .offset = 0x1234, .module = (char *)"/lib/libstripped.so" };
	struct ml_frame unk = { .pc = 0x7f2000000010, .kind = ML_FK_UNKNOWN,
				.module = (char *)"/memfd:doublemapper (deleted)" };
	const char *got;

	got = text(&nat, FRAME_FMT_STACK);
	T_CHECKF("stack: native with file:line", !strcmp(got,
		 "mmap_allocation (libExample.so) example.c:42"), "Got '%s'", got);
	got = text(&nat, FRAME_FMT_SHORT);
	T_CHECKF("short: native with file:line", !strcmp(got,
		 "mmap_allocation (libExample.so, example.c:42)"), "Got '%s'", got);
	got = text(&nat, FRAME_FMT_ADDRESS);
	T_CHECKF("address: native", !strcmp(got, "0x401136  mmap_allocation+0x16  "
		 "[native, libExample.so]  /src/example.c:42"), "Got '%s'", got);
	got = text(&jit, FRAME_FMT_STACK);
	T_CHECKF("stack: JIT with tier and assembly", !strcmp(got,
		 "App.Program::Main() [jit QuickJitted, MyApp]"), "Got '%s'", got);
	got = text(&jit, FRAME_FMT_SHORT);
	T_CHECKF("short: JIT is its name", !strcmp(got, "App.Program::Main()"),
		 "Got '%s'", got);
	got = text(&jit, FRAME_FMT_ADDRESS);
	T_CHECKF("address: JIT is managed", !strcmp(got, "0x7f00001010  "
		 "App.Program::Main()+0x10  [managed jit QuickJitted, MyApp]"),
		 "Got '%s'", got);
	got = text(&strip, FRAME_FMT_STACK);
	T_CHECKF("stack: stripped module", !strcmp(got,
		 "libstripped.so+0x1234 (no symbol)"), "Got '%s'", got);
	got = text(&strip, FRAME_FMT_SHORT);
	T_CHECKF("short: stripped module", !strcmp(got, "libstripped.so+0x1234"),
		 "Got '%s'", got);
	got = text(&unk, FRAME_FMT_STACK);
	T_CHECKF("stack: unknown keeps the full path", !strcmp(got,
		 "0x7f2000000010 [unknown] (in /memfd:doublemapper (deleted))"),
		 "Got '%s'", got);
	got = text(&unk, FRAME_FMT_ADDRESS);
	T_CHECKF("address: unknown", !strcmp(got, "0x7f2000000010  ??  "
		 "[unknown, /memfd:doublemapper (deleted)]"), "Got '%s'", got);
}

static void test_text_escapes(void)
{
	struct ml_frame f = { .pc = 0x1000, .kind = ML_FK_JIT, .offset = 4,
			      .symbol = (char *)"Evil\x1b[2J\r\xff", .module = (char *)"m\x07",
			      .tier = (char *)"T\n" };
	static const enum frame_fmt_style styles[] = {
		FRAME_FMT_STACK, FRAME_FMT_SHORT, FRAME_FMT_ADDRESS,
	};

	for (size_t i = 0; i < ARRAY_SIZE(styles); i++) {
		const char *got = text(&f, styles[i]);
		bool raw = false;
		char name[64];

		for (const char *p = got; *p; p++)
			raw |= (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f;
		snprintf(name, sizeof(name), "style %zu: no raw control byte", i);
		T_CHECKF(name, !raw && strstr(got, "Evil\\x1b[2J\\x0d\\xff"),
			 "Got '%s'", got);
	}
}

static void test_json(void)
{
	struct ml_frame f = { .pc = 0x7f00001010, .kind = ML_FK_JIT, .offset = 0x10,
			      .symbol = (char *)"Bad\xff\xfeName", .module = (char *)"/tmp/\xc3x.so",
			      .file = (char *)"f.cs", .line = 7, .tier = (char *)"OptimizedTier1" };
	struct ml_frame u = { .pc = 0x10, .kind = ML_FK_UNKNOWN };
	json_t *o = frame_fmt_json(&f), *uo = frame_fmt_json(&u);
	char *dump = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_t *back = dump ? json_loads(dump, 0, NULL) : NULL;

	T_CHECK("json: a name that is not UTF-8 still gives an object", o != NULL);
	T_CHECKF("json: the bytes that are not ASCII become '?'",
		 back && !strcmp(json_string_value(json_object_get(back, "symbol")),
				 "Bad??Name") &&
		 !strcmp(json_string_value(json_object_get(back, "module")), "/tmp/?x.so"),
		 "Got %s", dump ? dump : "(null)");
	T_CHECKF("json: every field", back &&
		 !strcmp(json_string_value(json_object_get(back, "address")), "0x7f00001010") &&
		 json_integer_value(json_object_get(back, "offset")) == 0x10 &&
		 json_integer_value(json_object_get(back, "line")) == 7 &&
		 !strcmp(json_string_value(json_object_get(back, "kind")), "jit") &&
		 !strcmp(json_string_value(json_object_get(back, "tier")), "OptimizedTier1") &&
		 !strcmp(json_string_value(json_object_get(back, "file")), "f.cs") &&
		 json_is_true(json_object_get(back, "managed")),
		 "Got %s", dump ? dump : "(null)");
	T_CHECK("json: unknown frame has nulls and managed false", uo &&
		json_is_null(json_object_get(uo, "symbol")) &&
		json_is_null(json_object_get(uo, "offset")) &&
		json_is_null(json_object_get(uo, "line")) &&
		json_is_false(json_object_get(uo, "managed")));
	free(dump);
	json_decref(back);
	json_decref(o);
	json_decref(uo);
}

int main(void)
{
	test_text_layouts();
	test_text_escapes();
	test_json();
	T_END();
}
