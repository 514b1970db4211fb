/* prng.h - the tests' seeded random numbers (splitmix64): schedules are
 * reproducible from a seed, never from the clock. */
#ifndef FS_TEST_PRNG_H
#define FS_TEST_PRNG_H

#include <stdint.h>

static inline uint64_t prng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

#endif
