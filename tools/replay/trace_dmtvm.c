/* SPDX-License-Identifier: MIT */
/*
 * trace_dmtvm.c: decoder of dmtvm binary traces (pvdmt/dmtvm_trace.h):
 * a 32-byte header checked field by field, then 8-byte records. Control
 * records become TRACE_ROI_BEGIN / TRACE_ROI_END / TRACE_ASID.
 */
#include <string.h>

#include "dmtvm_trace.h"
#include "trace_impl.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int check_header(struct trace_reader *r)
{
	while (r->end - r->start < DMTVM_TRACE_HDR_SIZE && !r->eof)
		if (trace_fill(r) < 0)
			return -1;
	const uint8_t *p = r->buf + r->start;
	size_t n = r->end - r->start;
	if (n < DMTVM_TRACE_HDR_SIZE)
		return trace_fail(r, 1, "%s: truncated dmtvm trace header (%zu of %d bytes)",
				  r->src.name, n, DMTVM_TRACE_HDR_SIZE);
	if (memcmp(p, DMTVM_TRACE_MAGIC, 8) != 0) {
		char esc[64];
		trace_escape(esc, sizeof(esc), p, 8, 8);
		return trace_fail(r, 1, "%s: bad magic \"%s\" (expected \"%s\")", r->src.name, esc,
				  DMTVM_TRACE_MAGIC);
	}
	uint32_t version = le32(p + 8), rsize = le32(p + 12);
	uint64_t flags = le64(p + 16);
	if (version != DMTVM_TRACE_VERSION)
		return trace_fail(r, 1, "%s: unsupported dmtvm trace version %u (expected %d)",
				  r->src.name, version, DMTVM_TRACE_VERSION);
	if (rsize != 8)
		return trace_fail(r, 1, "%s: dmtvm trace record size %u (expected 8)", r->src.name,
				  rsize);
	if (flags != 0)
		return trace_fail(r, 1, "%s: dmtvm trace flags 0x%llx (expected 0 in version %d)",
				  r->src.name, (unsigned long long)flags, DMTVM_TRACE_VERSION);
	r->start += DMTVM_TRACE_HDR_SIZE;
	r->header_done = 1;
	return 0;
}

static int bad_record(struct trace_reader *r, uint64_t rec, const char *why)
{
	uint64_t off = r->consumed + r->start;
	return trace_fail(r, 1, "%s: record %llu (byte offset %llu, 0x%016llx): %s", r->src.name,
			  (unsigned long long)r->units, (unsigned long long)off,
			  (unsigned long long)rec, why);
}

long trace_dmtvm_read(struct trace_reader *r, struct trace_rec *recs, size_t max)
{
	if (!r->header_done && check_header(r) < 0)
		return -1;
	size_t n = 0;
	while (n < max) {
		size_t avail = r->end - r->start;
		if (avail < 8) {
			if (r->eof) {
				if (avail == 0 && r->inv_pending)
					return trace_fail(
					    r, 1,
					    "%s: ends inside an invalidation (control "
					    "type 4 without its type 5)",
					    r->src.name);
				if (avail == 0)
					break;
				return trace_fail(r, 1,
						  "%s: truncated record %llu at byte offset %llu "
						  "(%zu of 8 bytes)",
						  r->src.name, (unsigned long long)r->units + 1,
						  (unsigned long long)(r->consumed + r->start),
						  avail);
			}
			if (n > 0)
				break;
			if (trace_fill(r) < 0)
				return -1;
			continue;
		}
		/* Decode every whole record in the buffer. */
		const uint8_t *p = r->buf + r->start;
		size_t whole = avail / 8;
		if (whole > max - n)
			whole = max - n;
		for (size_t k = 0; k < whole; k++, p += 8) {
			uint64_t v = le64(p);
			unsigned kind = dmtvm_trace_kind(v), size = dmtvm_trace_size(v);
			struct trace_rec *o = &recs[n];
			r->units++;
			o->vcpu = (uint8_t)dmtvm_trace_vcpu(v);
			o->pad = 0;
			if (r->inv_pending &&
			    !(kind == DMTVM_TRACE_CONTROL && size == DMTVM_TRACE_INVALIDATE_LEN))
				return bad_record(r, v,
						  "an invalidation (control type 4) not followed "
						  "by its length (type 5)");
			if (kind == DMTVM_TRACE_CONTROL) {
				o->va = v & 0xffffffffffffULL;
				o->size = 0;
				if (size == DMTVM_TRACE_INVALIDATE) {
					/* One decoded record for the pair: at the length. */
					r->inv_va = o->va;
					r->inv_pending = 1;
					r->start += 8;
					continue;
				}
				if (size == DMTVM_TRACE_INVALIDATE_LEN) {
					if (!r->inv_pending)
						return bad_record(
						    r, v,
						    "an invalidation length (control "
						    "type 5) without its address (4)");
					uint64_t pages = (o->va + 4095) >> 12;
					r->inv_pending = 0;
					o->kind = TRACE_INVALIDATE;
					o->va = r->inv_va;
					o->size = pages > UINT32_MAX ? UINT32_MAX : (uint32_t)pages;
				} else if (size == DMTVM_TRACE_ROI_BEGIN) {
					o->kind = TRACE_ROI_BEGIN;
				} else if (size == DMTVM_TRACE_ROI_END) {
					o->kind = TRACE_ROI_END;
				} else if (size == DMTVM_TRACE_ASID) {
					o->kind = TRACE_ASID;
				} else {
					return bad_record(r, v,
							  "unknown control type (expected 1..5)");
				}
			} else {
				if (size == 0)
					return bad_record(r, v, "access of size 0");
				o->va = dmtvm_trace_va(v);
				if (trace_crosses_half(o->va, size))
					return bad_record(r, v,
							  "access crosses the end of its "
							  "canonical half");
				o->size = size;
				o->kind = (uint8_t)kind; /* TRACE_LOAD/STORE/FETCH == 0/1/2 */
			}
			n++;
			r->start += 8;
		}
	}
	return (long)n;
}
