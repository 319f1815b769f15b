/* SPDX-License-Identifier: MIT */
/*
 * ucopy.h: copies out of the initramfs done in ring 3 (ucopy.c): large
 * read()s and the file bytes of an ELF image at exec. Ring 0 is emulated
 * here (~1.5 us per `rep movsq` iteration: ~0.8 ms per 4 KiB), ring 3 is
 * native.
 */
#ifndef UCOPY_H
#define UCOPY_H

#include "syscall.h"

/* Below this a ring-0 copy_to_user is cheaper than the ring-3 detour (~1 ms). */
#define UCOPY_MIN (8 * 1024)

/* Kernel-private call the ring-3 copy stub ends with (entry.S ucopy_stub). */
#define DMTVM_SYS_UCOPY_DONE 0x4455
/* The stub page: code at 0, descriptors {dst, src, len} from here, len 0 ends. */
#define UCOPY_DESC_OFF 64
#define UCOPY_DESC_MAX ((4096 - UCOPY_DESC_OFF) / 24 - 1)

#ifndef __ASSEMBLER__
#include "trap.h"
#include "vm.h"

/*
 * From a system call handler (a = its saved registers): have n bytes of
 * initramfs data at src copied to user udst in ring 3 on the way out. The
 * call then returns result to the user once the copy is done, or -EFAULT
 * (and *pos, if not NULL, goes back to its value on entry) if the user
 * buffer faults. Returns false when it cannot (the caller copies in ring 0).
 */
bool ucopy_start(struct syscall_args *a, uint64_t udst, const void *src, uint64_t n, long result,
		 uint64_t *pos);
/* DMTVM_SYS_UCOPY_DONE: the copy finished; the original call's result. -ENOSYS if none ran. */
long ucopy_done(struct syscall_args *a);
/* A ring-3 trap vm_fault could not fix: true if it hit a read's copy (now -EFAULT). */
bool ucopy_fault(struct trapframe *tf);

/*
 * ELF loading (elf.c): copy len initramfs bytes at src into frame_pa + off
 * (a frame of the image being built) later, in ring 3, before the image
 * runs. false if the list is full: the caller copies now.
 */
bool ucopy_defer(uint64_t frame_pa, uint64_t off, const void *src, uint64_t len);
/* Forget deferred copies (an exec that failed). */
void ucopy_defer_cancel(void);
/*
 * Run the deferred copies of mm's image in ring 3 (rsp = sp meanwhile);
 * never returns then: DMTVM_SYS_UCOPY_DONE calls proc_enter_image() again.
 * Returns when nothing is deferred (or after copying in ring 0, if the
 * ring-3 detour cannot be set up).
 */
void ucopy_run_deferred(struct mm *mm, uint64_t sp);
#endif /* __ASSEMBLER__ */

#endif /* UCOPY_H */
