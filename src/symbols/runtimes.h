/* SPDX-License-Identifier: MIT */
/*
 * Readable names for the perf-map entries of HotSpot JVMs and Node (V8),
 * used by the symbol tables (symtab.c). Getting those runtimes to write
 * their perf maps is src/runtime/ (runtime.h).
 */
#ifndef MAPLEAK_RUNTIMES_H
#define MAPLEAK_RUNTIMES_H

#include "mapleak.h"

/*
 * Names a HotSpot or V8 perf-map entry readably (a small, bounded parser:
 * perf maps are outside data):
 *   "java.nio.MappedByteBuffer MapLeak.leakOne(long)" -> MapLeak.leakOne(long)
 *   "Lcom/foo/Bar;::run"                              -> com.foo.Bar::run
 *   "Interpreter"                                     -> [interpreted Java], stub
 *   "JS:*leak /app/x.js:3:20" -> leak, file /app/x.js, line 3, tier optimized
 * Fills symbol (and file, line, tier, kind) of f. Returns 1 when the name
 * had one of these shapes, 0 when not (f untouched), -ENOMEM.
 */
int runtimes_name_jit(const char *name, struct ml_frame *f);

#endif
