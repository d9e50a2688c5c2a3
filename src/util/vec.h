/* SPDX-License-Identifier: MIT */
/*
 * Growable arrays: one overflow-checked doubling for every array that
 * grows by appending (a pointer, a count kept by the caller, a capacity).
 *
 *	if (ML_VEC_GROW(v, cap, n + 1))
 *		return -ENOMEM;
 *	v[n++] = x;
 */
#ifndef MAPLEAK_UTIL_VEC_H
#define MAPLEAK_UTIL_VEC_H

#include <stddef.h>

/* The first capacity of an empty array. */
#define ML_VEC_MIN 16

/*
 * Makes *arr (of elem-sized items, room for *cap) hold at least need:
 * doubles *cap, from ML_VEC_MIN, until it does. 0, or -ENOMEM when out of
 * memory or when the size would overflow; then *arr and *cap are left as
 * they were (still valid, still the caller's to free).
 */
int ml_vec_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* ml_vec_grow() of a typed array p with capacity variable cap (size_t). */
#define ML_VEC_GROW(p, cap, need) \
	ml_vec_grow((void **)&(p), &(cap), (need), sizeof(*(p)))

#endif
