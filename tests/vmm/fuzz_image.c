/* SPDX-License-Identifier: MIT */
/*
 * fuzz_image.c: libFuzzer target for the guest.img reader and the kernel
 * ELF checks (vmm/image.c, vmm/kernel_elf.c), with a 64 MiB guest RAM. When
 * the input passes, the kernel is also loaded into a RAM buffer so a check
 * that lets a bad segment through shows up as an ASan error.
 * Build with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ivmm -Ipvdmt \
 *     tests/vmm/fuzz_image.c vmm/image.c vmm/kernel_elf.c vmm/crc32.c -o fuzz_image
 * Under meson test, fuzz_driver.c replays the seed corpus corpus/image/.
 */
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include "crc32.h"
#include "image.h"
#include "image_format.h"
#include "kernel_elf.h"

#define FUZZ_RAM (64ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct vmm_image img;
	struct vmm_elf elf;
	char err[512];
	if (vmm_image_parse(data, size, &img, err, sizeof(err)) < 0)
		return;
	if (vmm_elf_parse(img.kernel, img.kernel_size, FUZZ_RAM, &elf, err, sizeof(err)) < 0)
		return;
	if (!ram)
		ram = malloc(FUZZ_RAM);
	if (ram)
		vmm_elf_load(&elf, img.kernel, ram);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size);
	/*
	 * Mutations almost never keep the CRC right: also try a copy with the
	 * checksum fixed, so the fuzzer reaches the section and ELF checks.
	 */
	if (size >= DMTVM_IMG_HEADER_SIZE) {
		uint8_t *copy = malloc(size);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		memset(copy + 72, 0, 4);
		uint32_t crc = vmm_crc32(0, copy, size);
		for (int i = 0; i < 4; i++)
			copy[72 + i] = (uint8_t)(crc >> (8 * i));
		check(copy, size);
		free(copy);
	}
	return 0;
}
