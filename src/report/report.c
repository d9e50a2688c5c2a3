// SPDX-License-Identifier: MIT
/* The table of output formats and what they share. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "report/formats.h"

static const struct report_ops formats[] = {
	{ "text", report_text_emit },
	{ "json", report_json_emit },
};

const struct report_ops *report_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

const char *report_human_size(u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	unsigned __int128 unit = 1024, tenths;
	size_t u;

	if (!buf || !len)
		return buf;
	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	/* the smallest unit whose rounded value stays below 1024.0, so
	 * 1048575 bytes reads "1.0 MiB", not "1024.0 KiB" */
	for (u = 0;; u++, unit *= 1024) {
		tenths = ((unsigned __int128)bytes * 10 + unit / 2) / unit;
		if (tenths < 10240 || u == ARRAY_SIZE(units) - 1)
			break;
	}
	snprintf(buf, len, "%llu.%u %s", (unsigned long long)(tenths / 10),
		 (unsigned)(tenths % 10), units[u]);
	return buf;
}

const char *report_frame_kind_name(u32 kind)
{
	switch (kind) {
	case ML_FK_NATIVE:	return "native";
	case ML_FK_JIT:		return "jit";
	case ML_FK_R2R:		return "r2r";
	case ML_FK_STUB:	return "stub";
	case ML_FK_KERNEL:	return "kernel";
	case ML_FK_GAP:		return "gap";
	default:		return "unknown";
	}
}

const char *report_prot_str(u32 prot, char buf[4])
{
	buf[0] = (prot & PROT_READ) ? 'r' : '-';
	buf[1] = (prot & PROT_WRITE) ? 'w' : '-';
	buf[2] = (prot & PROT_EXEC) ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

const char *report_stopped_by_name(u32 stopped_by)
{
	switch (stopped_by) {
	case ML_STOP_EXIT:	return "exit";
	case ML_STOP_SIGNAL:	return "signal";
	case ML_STOP_DURATION:	return "duration";
	default:		return NULL;
	}
}

const char *report_basename(const char *path)
{
	const char *s;

	if (!path)
		return NULL;
	s = strrchr(path, '/');
	/* "/memfd:x" keeps its name; a trailing slash keeps the whole path */
	return (s && s[1]) ? s + 1 : path;
}

size_t report_nshown(const struct ml_result *r, const struct report_opts *o)
{
	if (!o || !o->top || o->top >= r->nsites)
		return r->nsites;
	return o->top;
}

int report_finish(FILE *out)
{
	errno = 0;
	if (fflush(out) || ferror(out))
		return -(errno ? errno : EIO);
	return 0;
}
