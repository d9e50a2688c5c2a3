/* SPDX-License-Identifier: MIT */
/*
 * Naming interpreted Java frames of a HotSpot JVM from its own memory,
 * the way profilers that read HotSpot do: the JVM exports the layout of
 * its internal types (gHotSpotVMStructs, gHotSpotVMTypes and the entry
 * offsets, in libjvm.so's dynamic symbols), so a reader can follow
 * Method -> ConstMethod -> ConstantPool -> Symbol and build
 * "pkg.Class.method(argument types)".
 *
 * Target memory is outside data: every read goes through one callback,
 * every length is capped, every loop is bounded by a constant, and a
 * failure is an error (the frame stays "[interpreted Java]"), never a
 * crash or a long walk.
 */
#ifndef MAPLEAK_HOTSPOT_H
#define MAPLEAK_HOTSPOT_H

#include "mapleak.h"

/*
 * x86-64 interpreter frame (frame_x86.hpp, JDK 8 to 21): below the saved
 * rbp are the sender sp (-1 word), the last sp (-2) and the Method* (-3).
 */
#define HOTSPOT_FRAME_METHOD_OFFSET (-3 * 8)

/* Reads len bytes of target memory at addr: 0 or -errno (a short read is
 * an error). */
typedef int (*hotspot_read_fn)(void *ctx, u64 addr, void *buf, size_t len);
/* The run-time address of a dynamic symbol of libjvm.so: 0 or -ENOENT. */
typedef int (*hotspot_sym_fn)(void *ctx, const char *name, u64 *addr);

struct hotspot;

/*
 * Reads the JVM's exported layout. -ENOENT: not a HotSpot JVM (symbols
 * missing), -EPROTO: its tables lack a field naming needs or are
 * malformed, -EIO/-EFAULT: unreadable, -ENOMEM. The callbacks are kept.
 */
int hotspot_open(struct hotspot **out, hotspot_read_fn read, hotspot_sym_fn sym,
		 void *ctx);
void hotspot_free(struct hotspot *hs);	/* NULL is a no-op */

/*
 * The interpreter's code, [*lo, *hi) (AbstractInterpreter::_code's
 * StubQueue). -EAGAIN while the JVM has not generated it yet.
 */
int hotspot_interpreter(struct hotspot *hs, u64 *lo, u64 *hi);

/* Where Java code returns into the call stub, HotSpot's entry from C++
 * into Java (StubRoutines::_call_stub_return_address). -EAGAIN: not yet. */
int hotspot_call_stub_return(struct hotspot *hs, u64 *addr);

/* The code cache's reserved range, [*lo, *hi): compiled code, stubs and
 * the interpreter. -EAGAIN: not yet. */
int hotspot_code_cache(struct hotspot *hs, u64 *lo, u64 *hi);

/* The value of a bool JVM flag (e.g. "PreserveFramePointer"): 0 or
 * -ENOENT / -EIO / -EPROTO. */
int hotspot_flag_bool(struct hotspot *hs, const char *name, bool *value);

/*
 * The name of Method* method, "pkg.Class.method(long, java.lang.String[])"
 * (no return type, as HotSpot's perf map names compiled methods), or NULL
 * with the error in *err (-EIO, -EPROTO, -ENOMEM). Borrowed: valid until
 * hotspot_free() (until the next call when the cache is full). Results, failures included, are cached by Method*.
 */
const char *hotspot_method_name(struct hotspot *hs, u64 method, int *err);

/*
 * Exposed for tests: formats a class name ("java/lang/String"), method
 * name and descriptor ("(J[Ljava/lang/String;)V") into out. 0, or -EPROTO
 * for a malformed descriptor, -ENOSPC when it does not fit.
 */
int hotspot_format_method(const char *klass, size_t klen, const char *name,
			  size_t nlen, const char *sig, size_t slen, char *out,
			  size_t cap);

#endif
