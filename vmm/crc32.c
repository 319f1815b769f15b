/* SPDX-License-Identifier: MIT */
/* crc32.c: table-driven CRC-32 (reflected polynomial 0xEDB88320). */
#include "crc32.h"

static uint32_t table[256];

static void crc32_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
}

uint32_t vmm_crc32(uint32_t crc, const void *buf, size_t len)
{
	/* Built once; a benign race if two threads get here first. */
	if (!table[1])
		crc32_init();
	const uint8_t *p = buf;
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
