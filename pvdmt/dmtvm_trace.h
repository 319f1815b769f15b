/* SPDX-License-Identifier: MIT */
/*
 * dmtvm_trace.h: dmtvm's compact binary trace format, version 1.
 *
 * The same 8-byte records travel in the guest's trace ring (guest runtime ->
 * guest kernel -> VMM, one exit per full ring) and in trace files
 * (`dmtvm run --trace-out`, `dmtvm replay`). All integers little-endian.
 *
 * File = header (32 bytes) + records until end of file:
 *   0  char     magic[8]     "DMTVMTRC"
 *   8  uint32_t version      DMTVM_TRACE_VERSION
 *  12  uint32_t record_size  8
 *  16  uint64_t flags        0 (reserved, must be 0 in version 1)
 *  24  uint64_t reserved     0
 *
 * Record (uint64_t):
 *   bits  0..47  va: virtual address, sign-extended from bit 47 (canonical)
 *   bits 48..55  size in bytes, 1..255 (accesses wider than 255 bytes are
 *                split by the writer)
 *   bits 56..57  kind: 0 load, 1 store, 2 instruction fetch, 3 control
 *   bits 58..63  vcpu, 0..63
 * A control record (kind 3) carries its type in the size field and a 48-bit
 * payload in the va field:
 *   type 1  region of interest begins (payload 0)
 *   type 2  region of interest ends   (payload 0)
 *   type 3  address-space switch      (payload: address-space id; in a
 *           nested run's --trace-out, L2's address spaces carry
 *           DMTVM_TRACE_ASID_L2, so they never alias L1's)
 *   type 4  the guest changed its page tables (PT_UPDATE): TLB entries of
 *           [va, va + len) of the current address space are dropped
 *           (payload: va); always followed by
 *   type 5  that change's len in bytes (payload; 0: every entry). Written by
 *           `dmtvm run --trace-out` so that `dmtvm replay` drops the TLB
 *           entries the run's model dropped (a program that unmaps).
 */
#ifndef DMTVM_TRACE_H
#define DMTVM_TRACE_H

#include <stdint.h>

#define DMTVM_TRACE_MAGIC    "DMTVMTRC"
#define DMTVM_TRACE_VERSION  1
#define DMTVM_TRACE_HDR_SIZE 32

enum dmtvm_trace_kind {
	DMTVM_TRACE_LOAD = 0,
	DMTVM_TRACE_STORE = 1,
	DMTVM_TRACE_FETCH = 2,
	DMTVM_TRACE_CONTROL = 3,
};

enum dmtvm_trace_control {
	DMTVM_TRACE_ROI_BEGIN = 1,
	DMTVM_TRACE_ROI_END = 2,
	DMTVM_TRACE_ASID = 3,
	DMTVM_TRACE_INVALIDATE = 4,
	DMTVM_TRACE_INVALIDATE_LEN = 5,
};

#define DMTVM_TRACE_ASID_L2 (1ULL << 40)

struct dmtvm_trace_header {
	char magic[8];
	uint32_t version;
	uint32_t record_size;
	uint64_t flags;
	uint64_t reserved;
};

static inline uint64_t dmtvm_trace_rec(uint64_t va, unsigned size, unsigned kind, unsigned vcpu)
{
	return (va & 0xffffffffffffULL) | ((uint64_t)(size & 0xff) << 48) |
	       ((uint64_t)(kind & 3) << 56) | ((uint64_t)(vcpu & 63) << 58);
}

static inline uint64_t dmtvm_trace_va(uint64_t rec)
{
	return (uint64_t)((int64_t)(rec << 16) >> 16);
}

static inline unsigned dmtvm_trace_size(uint64_t rec)
{
	return (unsigned)(rec >> 48) & 0xff;
}

static inline unsigned dmtvm_trace_kind(uint64_t rec)
{
	return (unsigned)(rec >> 56) & 3;
}

static inline unsigned dmtvm_trace_vcpu(uint64_t rec)
{
	return (unsigned)(rec >> 58) & 63;
}

/*
 * Guest trace system call (guest kernel <-> workloads/trace_rt.c), number
 * DMTVM_TRACE_SYSCALL, far above Linux's table so a Linux host answers ENOSYS:
 *   syscall(NR, const uint64_t *recs, size_t n)          flush n records now
 *   syscall(NR, DMTVM_TRACE_OP_REGISTER, buf, cap, fillp)  register the buffer
 *   syscall(NR, DMTVM_TRACE_OP_UNREGISTER)                 forget it
 * The first argument tells them apart: a record buffer never lies in page 0.
 * A registered buffer holds cap records at buf (8-aligned); the 8-byte word
 * at fillp is the address of the next free slot in [buf, buf + 8 * cap], or
 * 0 while nothing is pending. Before the kernel changes or removes a mapping
 * (munmap, brk shrink, MAP_FIXED over a mapping, execve) and at exit, it
 * flushes [buf, *fillp) to the VMM and stores buf into *fillp, so pending
 * records are walked on the tables they were made on. The registration
 * belongs to the calling process's address space and ends at execve/exit.
 */
#define DMTVM_TRACE_SYSCALL	  0x444d
#define DMTVM_TRACE_OP_REGISTER	  1
#define DMTVM_TRACE_OP_UNREGISTER 2

#endif /* DMTVM_TRACE_H */
