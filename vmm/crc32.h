/* SPDX-License-Identifier: MIT */
/* crc32.h: CRC-32 (IEEE 802.3, as zlib), for guest.img checksums. */
#ifndef VMM_CRC32_H
#define VMM_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0. */
uint32_t vmm_crc32(uint32_t crc, const void *buf, size_t len);

#endif
