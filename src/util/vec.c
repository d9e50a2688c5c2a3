// SPDX-License-Identifier: MIT
/* Growable arrays (vec.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/vec.h"

int ml_vec_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : ML_VEC_MIN;
	void *p;

	if (need <= *cap)
		return 0;
	if (elem == 0 || need > SIZE_MAX / elem)
		return -ENOMEM;
	while (ncap < need) {
		/* need fits in memory (checked above): so does twice it,
		 * capped where doubling would pass the largest size */
		if (ncap > SIZE_MAX / elem / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}
