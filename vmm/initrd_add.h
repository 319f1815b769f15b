/* SPDX-License-Identifier: MIT */
/*
 * initrd_add.h: `dmtvm run --add HOST[=GUEST]`: host files and directories
 * put into the guest's initramfs at boot, without rebuilding the image.
 */
#ifndef VMM_INITRD_ADD_H
#define VMM_INITRD_ADD_H

#include <stddef.h>
#include <stdint.h>

/*
 * The initramfs to boot: an archive of the added files (and their parent
 * directories) followed by the image's own initrd, so that an added file
 * shadows an image file of the same path (the guest kernel's lookup takes
 * the first entry of a name). A spec is HOST or HOST=GUEST; GUEST is an
 * absolute guest path (default: /bin/NAME for a file, /NAME for a
 * directory, NAME being HOST's last component); a directory is added with
 * everything under it. On success *out is malloc'ed (caller frees) and 0
 * is returned; on a missing or unreadable HOST, a GUEST outside the guest's
 * tree or an archive of more than max bytes, -1 and one line in err.
 */
int vmm_initrd_add(const uint8_t *initrd, size_t initrd_size, char *const *specs, int nspecs,
		   uint64_t max, uint8_t **out, size_t *out_size, char *err, size_t errlen);

#endif
