/* SPDX-License-Identifier: MIT */
/*
 * mmu_lru.h: the exact-LRU set primitives of the cache model (not
 * installed). A set's tags sit unordered in their ways and are
 * compared all at once (SSE2, part of every x86-64; a plain loop elsewhere);
 * the set's LRU order is one 64-bit word of 4-bit way numbers, MRU in bits
 * 3:0, so a hit or a fill rewrites a few bits instead of shifting the set.
 * Up to 16 ways; the hits, misses and victims are exactly those of an
 * MRU-first array.
 */
#ifndef MMU_LRU_H
#define MMU_LRU_H

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MMU_LRU_MAX_WAYS 16
#define MMU_LRU_INIT	 0xfedcba9876543210ULL /* way p at LRU position p */
#define MMU_LRU_NIBBLES	 0x1111111111111111ULL

/* The nibbles of a set's order word in use (its `ways` low nibbles). */
static inline uint64_t mmu_lru_omask(unsigned ways)
{
	return ways >= 16 ? ~0ULL : (1ULL << (4 * ways)) - 1;
}

/* The order word of an empty set of `ways` ways. */
static inline uint64_t mmu_lru_init(unsigned ways)
{
	return MMU_LRU_INIT & mmu_lru_omask(ways);
}

/* The match bits of a set's `ways` ways (masks what a match read beyond). */
static inline uint32_t mmu_lru_ways(unsigned ways)
{
	return (uint32_t)((2ULL << (ways - 1)) - 1); /* no shift by 32 or 64 */
}

/* Bit i set: way i holds tag. set is 16-byte aligned, stride a multiple of 4. */
static inline uint32_t mmu_lru_match32(const uint32_t *set, uint32_t tag, uint32_t stride)
{
	uint32_t m = 0;
#ifdef __SSE2__
	__m128i t = _mm_set1_epi32((int)tag);

	for (uint32_t i = 0; i < stride; i += 4) {
		__m128i eq = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(set + i)), t);
		m |= (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(eq)) << i;
	}
#else
	for (uint32_t i = 0; i < stride; i++)
		m |= (uint32_t)(set[i] == tag) << i;
#endif
	return m;
}

/* The same for a set of up to 16 ways, with no loop: reads 16 tags from set
 * (the caller masks off the bits of ways it does not have). */
static inline uint32_t mmu_lru_match32x16(const uint32_t *set, uint32_t tag)
{
#ifdef __SSE2__
	__m128i t = _mm_set1_epi32((int)tag);
	const __m128i *v = (const __m128i *)set;
	/* the four 0 / -1 compare results narrowed to one byte per way (the
	 * saturating packs keep 0 and -1), then one mask */
	__m128i lo = _mm_packs_epi32(_mm_cmpeq_epi32(v[0], t), _mm_cmpeq_epi32(v[1], t));
	__m128i hi = _mm_packs_epi32(_mm_cmpeq_epi32(v[2], t), _mm_cmpeq_epi32(v[3], t));

	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(lo, hi));
#else
	return mmu_lru_match32(set, tag, 16);
#endif
}

/* The same for 16-bit tags: reads 16 tags (32 bytes, 16-byte aligned) from
 * set; the caller masks off the bits of ways it does not have. */
static inline uint32_t mmu_lru_match16x16(const uint16_t *set, uint16_t tag)
{
#ifdef __SSE2__
	__m128i t = _mm_set1_epi16((short)tag);
	const __m128i *v = (const __m128i *)set;

	return (uint32_t)_mm_movemask_epi8(
	    _mm_packs_epi16(_mm_cmpeq_epi16(v[0], t), _mm_cmpeq_epi16(v[1], t)));
#else
	uint32_t m = 0;

	for (uint32_t i = 0; i < 16; i++)
		m |= (uint32_t)(set[i] == tag) << i;
	return m;
#endif
}

/* Same for 64-bit tags; stride a multiple of 2. */
static inline uint32_t mmu_lru_match64(const uint64_t *set, uint64_t tag, uint32_t stride)
{
	uint32_t m = 0;
#ifdef __SSE2__
	__m128i t = _mm_set1_epi64x((long long)tag);

	for (uint32_t i = 0; i < stride; i += 2) {
		__m128i eq = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(set + i)), t);
		/* a 64-bit way matches when both of its 32-bit halves do */
		eq = _mm_and_si128(eq, _mm_shuffle_epi32(eq, _MM_SHUFFLE(2, 3, 0, 1)));
		m |= (uint32_t)_mm_movemask_pd(_mm_castsi128_pd(eq)) << i;
	}
#else
	for (uint32_t i = 0; i < stride; i++)
		m |= (uint32_t)(set[i] == tag) << i;
#endif
	return m;
}

/* The order after a hit on way w: w moves to the MRU position. */
static inline uint64_t mmu_lru_touch(uint64_t order, unsigned w)
{
	uint64_t x = order ^ (w * MMU_LRU_NIBBLES);
	/* the lowest zero nibble of x is w's position (haszero is exact for the
	 * lowest one, and w occurs once among the set's nibbles) */
	unsigned p =
	    (unsigned)__builtin_ctzll((x - MMU_LRU_NIBBLES) & ~x & (MMU_LRU_NIBBLES << 3)) >> 2;
	uint64_t younger = order & ((1ULL << (4 * p)) - 1);

	if (!p)
		return order;
	return (order & (~0ULL << (4 * p) << 4)) | (younger << 4) | w;
}

/* A set's geometry for victim and fill, computed once per cache level:
 * the shift of its LRU nibble (and mmu_lru_omask above). */
static inline unsigned mmu_lru_vshift(unsigned ways)
{
	return 4 * (ways - 1);
}

/* The LRU way of a set (vshift = mmu_lru_vshift(ways)). */
static inline unsigned mmu_lru_victim(uint64_t order, unsigned vshift)
{
	return (unsigned)(order >> vshift) & 15;
}

/* The order after filling the LRU way `victim`: it becomes MRU (omask =
 * mmu_lru_omask(ways)). */
static inline uint64_t mmu_lru_fill(uint64_t order, unsigned victim, uint64_t omask)
{
	return ((order << 4) | victim) & omask;
}

#endif /* MMU_LRU_H */
