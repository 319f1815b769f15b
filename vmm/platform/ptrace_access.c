/* SPDX-License-Identifier: MIT */
/*
 * ptrace_access.c: the ptrace platform's classifier of an instruction's
 * memory access (see ptrace_access.h): prefixes, REX, VEX, ModRM/SIB and
 * displacement for the length, then per opcode whether the memory operand is
 * read, written or both, the stack pushed or popped, and the bytes accessed.
 * A whitelist: what is not known here is refused, never guessed. No
 * allocation, no global state; it reads at most min(n, 15) bytes.
 */
#include <string.h>

#include "ptrace_access.h"
#include "x86_cursor.h"

/* The prefixes seen before the opcode. */
/* The mandatory prefix of an SSE or VEX instruction, in VEX.pp order. */
enum { MP_NONE, MP_66, MP_F3, MP_F2 };

/* What selects an SSE/AVX form and its sizes. */
struct sse {
	unsigned mp; /* MP_* */
	bool vex;
	bool l; /* VEX.L: 256-bit */
	bool w; /* REX.W or VEX.W */
};

/* What an instruction accesses. */
#define A_R    0x01 /* reads its ModRM (or moffs) memory operand: dropped with mod 3 */
#define A_W    0x02 /* writes it: dropped with mod 3 */
#define A_RW   (A_R | A_W)
#define A_SR   0x04 /* pops (reads the stack) */
#define A_SW   0x08 /* pushes (writes the stack) */
#define A_IR   0x10 /* reads an implicit operand ([rsi], [rbx + al]) */
#define A_IW   0x20 /* writes an implicit operand ([rdi]) */
#define A_LOCK 0x40 /* takes a lock prefix (with a memory operand) */
#define A_ANY  (A_RW | A_SR | A_SW | A_IR | A_IW)

struct insn {
	unsigned flags; /* A_* */
	unsigned size;	/* bytes, as struct ptrace_access.size */
	unsigned imm;	/* immediate bytes after the ModRM operand */
};

static void set(struct insn *in, unsigned flags, unsigned size, unsigned imm)
{
	in->flags = flags;
	in->size = size;
	in->imm = imm;
}

/* Operand size of a non-byte integer instruction: REX.W 8, else 66 2, else 4. */
static unsigned osize(const struct x86_prefixes *p)
{
	return p->rex & REX_W ? 8 : p->opsize ? 2 : 4;
}

/* Immediate of a non-byte instruction ("iz"): 2 with 66 alone, else 4. */
static unsigned isize(const struct x86_prefixes *p)
{
	return p->opsize && !(p->rex & REX_W) ? 2 : 4;
}

/* Push and pop slot size: 8, or 2 with 66 alone (there is no 32-bit push). */
static unsigned ssize(const struct x86_prefixes *p)
{
	return p->opsize && !(p->rex & REX_W) ? 2 : 8;
}

/* Near call/ret/jmp with 66 alone: 16-bit on AMD, ignored on Intel. */
static bool branch16(const struct x86_prefixes *p)
{
	return p->opsize && !(p->rex & REX_W);
}

/* The mandatory prefix: F2 or F3 win over 66; both is refused by the callers. */
static unsigned mandatory(const struct x86_prefixes *p)
{
	return p->repne ? MP_F2 : p->rep ? MP_F3 : p->opsize ? MP_66 : MP_NONE;
}

/* The SIB and displacement bytes of a ModRM memory operand (mod != 3). */
static int skip_mem(struct x86_cursor *c, uint8_t modrm)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	size_t disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;

	if (rm == 4) {
		uint8_t sib;
		if (x86_get8(c, &sib) < 0)
			return -1;
		if (mod == 0 && (sib & 7) == 5)
			disp = 4; /* no base: disp32 (even with REX.B) */
	} else if (mod == 0 && rm == 5) {
		disp = 4; /* rip-relative (even with REX.B) */
	}
	return x86_skip(c, disp);
}

/*
 * The rest of a ModRM instruction: its memory operand and immediate. A
 * register operand (mod 3) accesses no memory: the operand's access is
 * dropped and only the implicit ones (stack, [rdi]) remain.
 */
static int finish_rm(struct x86_cursor *c, uint8_t modrm, struct insn *in)
{
	if (modrm >> 6 == 3)
		in->flags &= ~(unsigned)(A_RW | A_LOCK);
	else if (skip_mem(c, modrm) < 0)
		return -1;
	return x86_skip(c, in->imm);
}

/* A ModRM instruction whose access does not depend on ModRM.reg. */
static int rm(struct x86_cursor *c, struct insn *in, unsigned flags, unsigned size, unsigned imm)
{
	uint8_t modrm;
	if (x86_get8(c, &modrm) < 0)
		return -1;
	set(in, flags, size, imm);
	return finish_rm(c, modrm, in);
}

/* x87 D8-DF with a memory operand (the register forms access none). */
static int decode_x87(struct x86_cursor *c, uint8_t op, struct insn *in)
{
	/* D8 DA DC DE: arithmetic and compares on m32fp m32int m64fp m16int. */
	static const uint8_t arith[4] = {4, 4, 8, 2};
	/* D9 DB DD DF by ModRM.reg: flags, size (0: reserved, or env/state). */
	static const struct {
		uint8_t flags, size;
	} ld_st[4][8] = {
	    /* D9: fld fst fstp m32fp, fldenv fldcw fnstenv fnstcw */
	    {{A_R, 4}, {0, 0}, {A_W, 4}, {A_W, 4}, {A_R, 0}, {A_R, 2}, {A_W, 0}, {A_W, 2}},
	    /* DB: fild fisttp fist fistp m32int, fld fstp m80fp */
	    {{A_R, 4}, {A_W, 4}, {A_W, 4}, {A_W, 4}, {0, 0}, {A_R, 10}, {0, 0}, {A_W, 10}},
	    /* DD: fld fisttp fst fstp m64, frstor, fnsave, fnstsw m16 */
	    {{A_R, 8}, {A_W, 8}, {A_W, 8}, {A_W, 8}, {A_R, 0}, {0, 0}, {A_W, 0}, {A_W, 2}},
	    /* DF: fild fisttp fist fistp m16int, fbld, fild m64, fbstp, fistp m64 */
	    {{A_R, 2}, {A_W, 2}, {A_W, 2}, {A_W, 2}, {A_R, 10}, {A_R, 8}, {A_W, 10}, {A_W, 8}},
	};
	uint8_t modrm;

	if (x86_get8(c, &modrm) < 0)
		return -1;
	unsigned sel = (op >> 1) & 3, reg = (modrm >> 3) & 7;
	if (!(op & 1))
		set(in, A_R, arith[sel], 0);
	else
		set(in, ld_st[sel][reg].flags, ld_st[sel][reg].size, 0);
	return finish_rm(c, modrm, in);
}

/*
 * Map 0F from 10 on (SSE to SSE4.2, and its VEX forms): modrm is read, the
 * caller consumes the operand. P is the packed size: 16, 32 with VEX.L.
 */
static int sse_0f(unsigned op, const struct sse *x, uint8_t modrm, struct insn *in)
{
	unsigned mp = x->mp, P = x->vex && x->l ? 32 : 16, wsz = x->w ? 8 : 4;
	bool leg = !x->vex, vl = x->vex && x->l;
	bool mmx = leg && mp == MP_NONE; /* the MMX form (no VEX form) */
	unsigned f = A_R, sz, imm = 0, reg = (modrm >> 3) & 7;

	switch (op) {
	case 0x10: /* movups movupd movss movsd */
	case 0x11:
		sz = mp == MP_F3 ? 4 : mp == MP_F2 ? 8 : P;
		f = op == 0x11 ? A_W : A_R;
		break;
	case 0x12: /* movlps movlpd movddup movsldup */
	case 0x16: /* movhps movhpd movshdup */
		if (mp == MP_F3) {
			sz = P;
		} else if (mp == MP_F2) {
			if (op == 0x16)
				return -1;
			sz = vl ? 32 : 8;
		} else {
			if (vl)
				return -1;
			sz = 8;
		}
		break;
	case 0x13: /* movlps movlpd to memory */
	case 0x17: /* movhps movhpd to memory */
		if (mp > MP_66 || vl)
			return -1;
		f = A_W;
		sz = 8;
		break;
	case 0x14: /* unpcklps unpcklpd */
	case 0x15: /* unpckhps unpckhpd */
	case 0x28: /* movaps movapd */
	case 0x54: /* andps andpd */
	case 0x55: /* andnps andnpd */
	case 0x56: /* orps orpd */
	case 0x57: /* xorps xorpd */
	case 0xc6: /* shufps shufpd */
		if (mp > MP_66)
			return -1;
		sz = P;
		imm = op == 0xc6;
		break;
	case 0x29: /* movaps movapd to memory */
		if (mp > MP_66)
			return -1;
		f = A_W;
		sz = P;
		break;
	case 0x2a: /* cvtpi2ps cvtpi2pd (m64), cvtsi2ss cvtsi2sd (r/m32/64) */
		if (mp >= MP_F3)
			sz = wsz;
		else if (leg)
			sz = 8;
		else
			return -1;
		break;
	case 0x2b: /* movntps movntpd; movntss movntsd (SSE4a) */
		f = A_W;
		if (mp <= MP_66)
			sz = P;
		else if (leg)
			sz = mp == MP_F3 ? 4 : 8;
		else
			return -1;
		break;
	case 0x2c: /* cvttps2pi cvttpd2pi cvttss2si cvttsd2si */
	case 0x2d: /* cvtps2pi cvtpd2pi cvtss2si cvtsd2si */
		if (mp == MP_F3)
			sz = 4;
		else if (mp == MP_F2)
			sz = 8;
		else if (leg)
			sz = mp == MP_66 ? 16 : 8;
		else
			return -1;
		break;
	case 0x2e: /* ucomiss ucomisd */
	case 0x2f: /* comiss comisd */
		if (mp > MP_66)
			return -1;
		sz = mp == MP_66 ? 8 : 4;
		break;
	case 0x51: /* sqrt */
	case 0x58: /* add */
	case 0x59: /* mul */
	case 0x5c: /* sub */
	case 0x5d: /* min */
	case 0x5e: /* div */
	case 0x5f: /* max */
	case 0xc2: /* cmpps cmppd cmpss cmpsd, imm8 */
		sz = mp == MP_F3 ? 4 : mp == MP_F2 ? 8 : P;
		imm = op == 0xc2;
		break;
	case 0x52: /* rsqrtps rsqrtss */
	case 0x53: /* rcpps rcpss */
		if (mp == MP_66 || mp == MP_F2)
			return -1;
		sz = mp == MP_F3 ? 4 : P;
		break;
	case 0x5a: /* cvtps2pd (m64) cvtpd2ps cvtss2sd cvtsd2ss */
		sz = mp == MP_NONE ? (vl ? 16 : 8) : mp == MP_66 ? P : mp == MP_F3 ? 4 : 8;
		break;
	case 0x5b: /* cvtdq2ps cvtps2dq cvttps2dq */
		if (mp == MP_F2)
			return -1;
		sz = P;
		break;
	case 0x60: /* punpcklbw: MMX reads m32 */
	case 0x61: /* punpcklwd */
	case 0x62: /* punpckldq */
		if (mp == MP_66)
			sz = P;
		else if (mmx)
			sz = 4;
		else
			return -1;
		break;
	case 0x63: /* packsswb */
	case 0x64: /* pcmpgtb */
	case 0x65: /* pcmpgtw */
	case 0x66: /* pcmpgtd */
	case 0x67: /* packuswb */
	case 0x68: /* punpckhbw */
	case 0x69: /* punpckhwd */
	case 0x6a: /* punpckhdq */
	case 0x6b: /* packssdw */
	case 0x74: /* pcmpeqb */
	case 0x75: /* pcmpeqw */
	case 0x76: /* pcmpeqd */
	case 0xd4: /* paddq */
	case 0xd5: /* pmullw */
	case 0xd8: /* psubusb */
	case 0xd9: /* psubusw */
	case 0xda: /* pminub */
	case 0xdb: /* pand */
	case 0xdc: /* paddusb */
	case 0xdd: /* paddusw */
	case 0xde: /* pmaxub */
	case 0xdf: /* pandn */
	case 0xe0: /* pavgb */
	case 0xe3: /* pavgw */
	case 0xe4: /* pmulhuw */
	case 0xe5: /* pmulhw */
	case 0xe8: /* psubsb */
	case 0xe9: /* psubsw */
	case 0xea: /* pminsw */
	case 0xeb: /* por */
	case 0xec: /* paddsb */
	case 0xed: /* paddsw */
	case 0xee: /* pmaxsw */
	case 0xef: /* pxor */
	case 0xf4: /* pmuludq */
	case 0xf5: /* pmaddwd */
	case 0xf6: /* psadbw */
	case 0xf8: /* psubb */
	case 0xf9: /* psubw */
	case 0xfa: /* psubd */
	case 0xfb: /* psubq */
	case 0xfc: /* paddb */
	case 0xfd: /* paddw */
	case 0xfe: /* paddd */
		if (mp == MP_66)
			sz = P;
		else if (mmx)
			sz = 8;
		else
			return -1;
		break;
	case 0xd1: /* psrlw: the count is m64 (MMX) or m128, whatever VEX.L */
	case 0xd2: /* psrld */
	case 0xd3: /* psrlq */
	case 0xe1: /* psraw */
	case 0xe2: /* psrad */
	case 0xf1: /* psllw */
	case 0xf2: /* pslld */
	case 0xf3: /* psllq */
		if (mp == MP_66)
			sz = 16;
		else if (mmx)
			sz = 8;
		else
			return -1;
		break;
	case 0x6c: /* punpcklqdq */
	case 0x6d: /* punpckhqdq */
		if (mp != MP_66)
			return -1;
		sz = P;
		break;
	case 0x6e: /* movd/movq mm or xmm, r/m32/64 */
	case 0x7e: /* movd/movq r/m32/64, mm or xmm; F3: movq xmm, xmm/m64 */
		if (op == 0x7e && mp == MP_F3) {
			if (vl)
				return -1;
			sz = 8;
			break;
		}
		if (mp > MP_66 || (mp == MP_NONE && !leg) || vl)
			return -1;
		f = op == 0x7e ? A_W : A_R;
		sz = wsz;
		break;
	case 0x6f: /* movq mm, mm/m64; movdqa; movdqu */
	case 0x7f: /* to memory */
		if (mp == MP_F2)
			return -1;
		if (mp == MP_NONE) {
			if (!leg)
				return -1;
			sz = 8;
		} else {
			sz = P;
		}
		f = op == 0x7f ? A_W : A_R;
		break;
	case 0x70: /* pshufw pshufd pshufhw pshuflw, imm8 */
		if (mp == MP_NONE) {
			if (!leg)
				return -1;
			sz = 8;
		} else {
			sz = P;
		}
		imm = 1;
		break;
	case 0x7c: /* haddpd haddps */
	case 0x7d: /* hsubpd hsubps */
	case 0xd0: /* addsubpd addsubps */
		if (mp != MP_66 && mp != MP_F2)
			return -1;
		sz = P;
		break;
	case 0xae: /* VEX only (the legacy group is decode_0f's): vldmxcsr vstmxcsr */
		if (leg || mp != MP_NONE || vl || (reg != 2 && reg != 3))
			return -1;
		f = reg == 3 ? A_W : A_R;
		sz = 4;
		break;
	case 0xc3: /* movnti */
		if (!mmx)
			return -1;
		f = A_W;
		sz = wsz;
		break;
	case 0xc4: /* pinsrw mm or xmm, r32/m16, imm8 */
		if (mp > MP_66 || (mp == MP_NONE && !leg) || vl)
			return -1;
		sz = 2;
		imm = 1;
		break;
	case 0xd6: /* movq xmm/m64, xmm */
		if (mp != MP_66 || vl)
			return -1;
		f = A_W;
		sz = 8;
		break;
	case 0xe6: /* cvttpd2dq cvtdq2pd (m64) cvtpd2dq */
		if (mp == MP_NONE)
			return -1;
		sz = mp == MP_F3 ? (vl ? 16 : 8) : P;
		break;
	case 0xe7: /* movntq movntdq */
		if (mp == MP_66)
			sz = P;
		else if (mmx)
			sz = 8;
		else
			return -1;
		f = A_W;
		break;
	case 0xf0: /* lddqu */
		if (mp != MP_F2)
			return -1;
		sz = P;
		break;
	case 0xf7: /* maskmovq maskmovdqu: register operands, stores to [rdi] */
		if (modrm >> 6 != 3)
			return -1;
		if (mp == MP_66 && !vl)
			sz = 16;
		else if (mmx)
			sz = 8;
		else
			return -1;
		f = A_IW;
		break;
	default:
		return -1;
	}
	set(in, f, sz, imm);
	return 0;
}

/* Map 0F 38 without VEX (SSSE3, SSE4.1/4.2, SHA, AES, movbe, crc32, adcx). */
static int legacy_0f38(unsigned op, const struct x86_prefixes *p, const struct sse *x,
		       struct insn *in)
{
	static const uint8_t pmov[6] = {8, 4, 2, 8, 4, 8}; /* pmovsx/zx bw bd bq wd wq dq */
	unsigned mp = x->mp;

	switch (op) {
	case 0x00 ... 0x0b: /* pshufb phadd* pmaddubsw phsub* psign* pmulhrsw */
	case 0x1c ... 0x1e: /* pabsb pabsw pabsd */
		if (mp == MP_66)
			set(in, A_R, 16, 0);
		else if (mp == MP_NONE)
			set(in, A_R, 8, 0);
		else
			return -1;
		return 0;
	case 0x10:	    /* pblendvb */
	case 0x14:	    /* blendvps */
	case 0x15:	    /* blendvpd */
	case 0x17:	    /* ptest */
	case 0x28:	    /* pmuldq */
	case 0x29:	    /* pcmpeqq */
	case 0x2a:	    /* movntdqa */
	case 0x2b:	    /* packusdw */
	case 0x37 ... 0x41: /* pcmpgtq pmin* pmax* pmulld phminposuw */
	case 0xdb ... 0xdf: /* aesimc aesenc aesenclast aesdec aesdeclast */
		if (mp != MP_66)
			return -1;
		set(in, A_R, 16, 0);
		return 0;
	case 0x20 ... 0x25: /* pmovsx */
	case 0x30 ... 0x35: /* pmovzx */
		if (mp != MP_66)
			return -1;
		set(in, A_R, pmov[op & 7], 0);
		return 0;
	case 0xc8 ... 0xcd: /* sha1nexte sha1msg1 sha1msg2 sha256rnds2 sha256msg1 sha256msg2 */
		if (mp != MP_NONE)
			return -1;
		set(in, A_R, 16, 0);
		return 0;
	case 0xf0: /* movbe r, m; F2: crc32 r, r/m8 */
	case 0xf1: /* movbe m, r; F2: crc32 r, r/m16/32/64 */
		if (mp == MP_F2)
			set(in, A_R, op == 0xf0 ? 1 : osize(p), 0);
		else if (mp == MP_F3)
			return -1;
		else
			set(in, op == 0xf1 ? A_W : A_R, osize(p), 0);
		return 0;
	case 0xf6: /* 66: adcx, F3: adox */
		if (mp != MP_66 && mp != MP_F3)
			return -1;
		set(in, A_R, x->w ? 8 : 4, 0);
		return 0;
	default:
		return -1;
	}
}

/* Map 0F 3A without VEX: every form has an imm8. */
static int legacy_0f3a(unsigned op, const struct sse *x, struct insn *in)
{
	unsigned mp = x->mp, f = A_R, sz;

	if (op == 0x0f && mp == MP_NONE) {
		set(in, A_R, 8, 1); /* palignr mm, mm/m64 */
		return 0;
	}
	if (op == 0xcc && mp == MP_NONE) {
		set(in, A_R, 16, 1); /* sha1rnds4 */
		return 0;
	}
	if (mp != MP_66)
		return -1;
	switch (op) {
	case 0x08:	    /* roundps */
	case 0x09:	    /* roundpd */
	case 0x0c:	    /* blendps */
	case 0x0d:	    /* blendpd */
	case 0x0e:	    /* pblendw */
	case 0x0f:	    /* palignr */
	case 0x40:	    /* dpps */
	case 0x41:	    /* dppd */
	case 0x42:	    /* mpsadbw */
	case 0x44:	    /* pclmulqdq */
	case 0x60 ... 0x63: /* pcmpestrm pcmpestri pcmpistrm pcmpistri */
	case 0xdf:	    /* aeskeygenassist */
		sz = 16;
		break;
	case 0x0a: /* roundss */
	case 0x21: /* insertps */
		sz = 4;
		break;
	case 0x0b: /* roundsd */
		sz = 8;
		break;
	case 0x14: /* pextrb to r/m8 */
		f = A_W;
		sz = 1;
		break;
	case 0x15: /* pextrw to r/m16 */
		f = A_W;
		sz = 2;
		break;
	case 0x16: /* pextrd pextrq */
		f = A_W;
		sz = x->w ? 8 : 4;
		break;
	case 0x17: /* extractps */
		f = A_W;
		sz = 4;
		break;
	case 0x20: /* pinsrb */
		sz = 1;
		break;
	case 0x22: /* pinsrd pinsrq */
		sz = x->w ? 8 : 4;
		break;
	default:
		return -1;
	}
	set(in, f, sz, 1);
	return 0;
}

/* VEX map 0F 38 (AVX, AVX2, F16C, FMA, AES, BMI1/2; not the gathers). */
static int vex_0f38(unsigned op, const struct sse *x, uint8_t modrm, struct insn *in)
{
	static const uint8_t pmov[6] = {8, 4, 2, 8, 4, 8};
	unsigned P = x->l ? 32 : 16, wsz = x->w ? 8 : 4, reg = (modrm >> 3) & 7;
	unsigned f = A_R, sz;

	/* BMI1/BMI2 on general registers: andn, blsr/blsmsk/blsi, bzhi pdep pext,
	 * mulx, bextr shlx sarx shrx. */
	switch (op) {
	case 0xf2:
		if (x->mp != MP_NONE || x->l)
			return -1;
		set(in, A_R, wsz, 0);
		return 0;
	case 0xf3:
		if (x->mp != MP_NONE || x->l || reg < 1 || reg > 3)
			return -1;
		set(in, A_R, wsz, 0);
		return 0;
	case 0xf5:
		if (x->mp == MP_66 || x->l)
			return -1;
		set(in, A_R, wsz, 0);
		return 0;
	case 0xf6:
		if (x->mp != MP_F2 || x->l)
			return -1;
		set(in, A_R, wsz, 0);
		return 0;
	case 0xf7:
		if (x->l)
			return -1;
		set(in, A_R, wsz, 0);
		return 0;
	}
	if (x->mp != MP_66)
		return -1;
	switch (op) {
	case 0x16: /* vpermps */
	case 0x19: /* vbroadcastsd */
	case 0x1a: /* vbroadcastf128 */
	case 0x36: /* vpermd */
	case 0x5a: /* vbroadcasti128 */
		if (!x->l)
			return -1; /* 256-bit only */
		break;
	case 0x41: /* vphminposuw */
	case 0xdb: /* vaesimc */
		if (x->l)
			return -1; /* 128-bit only */
		break;
	}
	switch (op) {
	case 0x00 ... 0x0f: /* vpshufb ... vpmulhrsw, vpermilps/pd, vtestps/pd */
	case 0x16:	    /* vpermps */
	case 0x17:	    /* vptest */
	case 0x1c ... 0x1e: /* vpabs* */
	case 0x28 ... 0x2b: /* vpmuldq vpcmpeqq vmovntdqa vpackusdw */
	case 0x2c:	    /* vmaskmovps load */
	case 0x2d:	    /* vmaskmovpd load */
	case 0x36 ... 0x40: /* vpermd vpcmpgtq vpmin* vpmax* vpmulld */
	case 0x45 ... 0x47: /* vpsrlv vpsravd vpsllv */
	case 0x8c:	    /* vpmaskmovd/q load */
	case 0x96 ... 0x98: /* packed FMA ... */
	case 0x9a:
	case 0x9c:
	case 0x9e:
	case 0xa6 ... 0xa8:
	case 0xaa:
	case 0xac:
	case 0xae:
	case 0xb6 ... 0xb8:
	case 0xba:
	case 0xbc:
	case 0xbe:
	case 0xdc ... 0xdf: /* vaesenc vaesenclast vaesdec vaesdeclast */
		sz = P;
		break;
	case 0x2e: /* vmaskmovps store */
	case 0x2f: /* vmaskmovpd store */
	case 0x8e: /* vpmaskmovd/q store */
		f = A_W;
		sz = P;
		break;
	case 0x99: /* scalar FMA: ss/sd by VEX.W */
	case 0x9b:
	case 0x9d:
	case 0x9f:
	case 0xa9:
	case 0xab:
	case 0xad:
	case 0xaf:
	case 0xb9:
	case 0xbb:
	case 0xbd:
	case 0xbf:
		sz = wsz;
		break;
	case 0x13: /* vcvtph2ps xmm/m64, ymm/m128 */
		sz = x->l ? 16 : 8;
		break;
	case 0x18: /* vbroadcastss */
	case 0x58: /* vpbroadcastd */
		sz = 4;
		break;
	case 0x19: /* vbroadcastsd */
	case 0x59: /* vpbroadcastq */
		sz = 8;
		break;
	case 0x1a: /* vbroadcastf128 */
	case 0x5a: /* vbroadcasti128 */
	case 0x41: /* vphminposuw */
	case 0xdb: /* vaesimc */
		sz = 16;
		break;
	case 0x78: /* vpbroadcastb */
		sz = 1;
		break;
	case 0x79: /* vpbroadcastw */
		sz = 2;
		break;
	case 0x20 ... 0x25: /* vpmovsx */
	case 0x30 ... 0x35: /* vpmovzx */
		sz = (unsigned)pmov[op & 7] << x->l;
		break;
	default:
		return -1;
	}
	set(in, f, sz, 0);
	return 0;
}

/* VEX map 0F 3A: every form has an imm8. */
static int vex_0f3a(unsigned op, const struct sse *x, struct insn *in)
{
	unsigned P = x->l ? 32 : 16, f = A_R, sz;

	if (op == 0xf0) { /* rorx */
		if (x->mp != MP_F2 || x->l)
			return -1;
		set(in, A_R, x->w ? 8 : 4, 1);
		return 0;
	}
	if (x->mp != MP_66)
		return -1;
	switch (op) {
	case 0x00: /* vpermq */
	case 0x01: /* vpermpd */
	case 0x06: /* vperm2f128 */
	case 0x18: /* vinsertf128 */
	case 0x19: /* vextractf128 */
	case 0x38: /* vinserti128 */
	case 0x39: /* vextracti128 */
	case 0x46: /* vperm2i128 */
		if (!x->l)
			return -1; /* 256-bit only */
		break;
	case 0x14 ... 0x17: /* vpextr*, vextractps */
	case 0x20 ... 0x22: /* vpinsr*, vinsertps */
	case 0x41:	    /* vdppd */
	case 0x60 ... 0x63: /* vpcmp?str? */
	case 0xdf:	    /* vaeskeygenassist */
		if (x->l)
			return -1; /* 128-bit only */
		break;
	}
	switch (op) {
	case 0x00:	    /* vpermq */
	case 0x01:	    /* vpermpd */
	case 0x02:	    /* vpblendd */
	case 0x04:	    /* vpermilps */
	case 0x05:	    /* vpermilpd */
	case 0x08:	    /* vroundps */
	case 0x09:	    /* vroundpd */
	case 0x0c ... 0x0f: /* vblendps vblendpd vpblendw vpalignr */
	case 0x40:	    /* vdpps */
	case 0x42:	    /* vmpsadbw */
	case 0x44:	    /* vpclmulqdq */
	case 0x4a ... 0x4c: /* vblendvps vblendvpd vpblendvb */
		sz = P;
		break;
	case 0x06: /* vperm2f128 */
	case 0x46: /* vperm2i128 */
		sz = 32;
		break;
	case 0x0a: /* vroundss */
	case 0x21: /* vinsertps */
		sz = 4;
		break;
	case 0x0b: /* vroundsd */
		sz = 8;
		break;
	case 0x18:	    /* vinsertf128 */
	case 0x38:	    /* vinserti128 */
	case 0x41:	    /* vdppd */
	case 0x60 ... 0x63: /* vpcmpestrm ... vpcmpistri */
	case 0xdf:	    /* vaeskeygenassist */
		sz = 16;
		break;
	case 0x19: /* vextractf128 */
	case 0x39: /* vextracti128 */
		f = A_W;
		sz = 16;
		break;
	case 0x1d: /* vcvtps2ph to xmm/m64, xmm/m128 */
		f = A_W;
		sz = x->l ? 16 : 8;
		break;
	case 0x14: /* vpextrb */
	case 0x15: /* vpextrw */
	case 0x16: /* vpextrd vpextrq */
	case 0x17: /* vextractps */
		f = A_W;
		sz = op == 0x14 ? 1 : op == 0x15 ? 2 : (op == 0x16 && x->w) ? 8 : 4;
		break;
	case 0x20: /* vpinsrb */
	case 0x22: /* vpinsrd vpinsrq */
		sz = op == 0x20 ? 1 : x->w ? 8 : 4;
		break;
	default:
		return -1;
	}
	set(in, f, sz, 1);
	return 0;
}

/* C4/C5: the VEX prefix, its opcode and ModRM. */
static int decode_vex(struct x86_cursor *c, const struct x86_prefixes *p, uint8_t b,
		      struct insn *in)
{
	struct sse x = {.vex = true};
	unsigned map = 1;
	uint8_t v1, v2, op, modrm;
	int rc;

	/* 66, F2, F3, lock or REX before VEX: #UD. */
	if (p->opsize || p->rep || p->repne || p->lock || p->any_rex)
		return -1;
	if (x86_get8(c, &v1) < 0)
		return -1;
	if (b == 0xc4) {
		map = v1 & 0x1f;
		if (x86_get8(c, &v2) < 0)
			return -1;
		x.w = v2 >> 7;
	} else {
		v2 = v1; /* C5: R vvvv L pp, map 0F, W 0 */
	}
	x.l = (v2 >> 2) & 1;
	x.mp = v2 & 3;
	if (map < 1 || map > 3)
		return -1;
	if (x86_get8(c, &op) < 0)
		return -1;
	if (map == 1 && op == 0x77)
		return -1; /* vzeroupper, vzeroall: no ModRM, no memory */
	if (x86_get8(c, &modrm) < 0)
		return -1;
	if (map == 1)
		rc = sse_0f(op, &x, modrm, in);
	else if (map == 2)
		rc = vex_0f38(op, &x, modrm, in);
	else
		rc = vex_0f3a(op, &x, in);
	if (rc < 0)
		return -1;
	return finish_rm(c, modrm, in);
}

/* 0F xx: the integer two-byte opcodes, then SSE and the 0F 38 / 0F 3A maps. */
static int decode_0f(struct x86_cursor *c, const struct x86_prefixes *p, struct insn *in)
{
	unsigned os = osize(p), reg;
	uint8_t op, modrm;
	int rc;

	if (x86_get8(c, &op) < 0)
		return -1;
	switch (op) {
	case 0x00: /* sldt str lldt ltr verr verw */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		if (reg > 5)
			return -1;
		set(in, reg < 2 ? A_W : A_R, 2, 0);
		return finish_rm(c, modrm, in);
	case 0x01: /* sgdt sidt lgdt lidt smsw lmsw (the mod 3 forms are others) */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		if (modrm >> 6 == 3 || p->rep || p->repne || reg == 5 || reg == 7)
			return -1;
		set(in, reg == 0 || reg == 1 || reg == 4 ? A_W : A_R, reg < 4 ? 10 : 2, 0);
		return finish_rm(c, modrm, in);
	case 0x02: /* lar */
	case 0x03: /* lsl */
		return rm(c, in, A_R, 2, 0);
	case 0xbc: /* bsf, F3: tzcnt (F2: reserved) */
	case 0xbd: /* bsr, F3: lzcnt */
		if (p->repne)
			return -1;
		return rm(c, in, A_R, os, 0);
	case 0x40 ... 0x4f: /* cmovcc: reads whatever the condition */
	case 0xaf:	    /* imul r, r/m */
	case 0xa3:	    /* bt r/m, r */
		return rm(c, in, A_R, os, 0);
	case 0xb8: /* F3: popcnt (else jmpe: not in 64-bit mode) */
		if (!p->rep || p->repne)
			return -1;
		return rm(c, in, A_R, os, 0);
	case 0x90 ... 0x9f: /* setcc */
		return rm(c, in, A_W, 1, 0);
	case 0xa0: /* push fs */
	case 0xa8: /* push gs */
		set(in, A_SW, ssize(p), 0);
		return 0;
	case 0xa1: /* pop fs */
	case 0xa9: /* pop gs */
		set(in, A_SR, ssize(p), 0);
		return 0;
	case 0xab: /* bts */
	case 0xb3: /* btr */
	case 0xbb: /* btc */
	case 0xc1: /* xadd */
	case 0xb1: /* cmpxchg: writes even when the comparison fails */
		return rm(c, in, A_RW | A_LOCK, os, 0);
	case 0xb0: /* cmpxchg r/m8 */
	case 0xc0: /* xadd r/m8 */
		return rm(c, in, A_RW | A_LOCK, 1, 0);
	case 0xa4: /* shld imm8 */
	case 0xac: /* shrd imm8 */
		return rm(c, in, A_RW, os, 1);
	case 0xa5: /* shld cl */
	case 0xad: /* shrd cl */
		return rm(c, in, A_RW, os, 0);
	case 0xb6: /* movzx r, r/m8 */
	case 0xbe: /* movsx r, r/m8 */
		return rm(c, in, A_R, 1, 0);
	case 0xb7: /* movzx r, r/m16 */
	case 0xbf: /* movsx r, r/m16 */
		return rm(c, in, A_R, 2, 0);
	case 0xba: /* bt bts btr btc r/m, imm8 */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		if (reg < 4)
			return -1;
		set(in, reg == 4 ? A_R : A_RW | A_LOCK, os, 1);
		return finish_rm(c, modrm, in);
	case 0xc7: /* cmpxchg8b cmpxchg16b, xsavec */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		if (reg == 1)
			set(in, A_RW | A_LOCK, p->rex & REX_W ? 16 : 8, 0);
		else if (reg == 4 && mandatory(p) == MP_NONE)
			set(in, A_W, 0, 0);
		else
			return -1;
		return finish_rm(c, modrm, in);
	case 0xae: /* fxsave fxrstor ldmxcsr stmxcsr xsave xrstor xsaveopt */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		/* mod 3: fences, rd/wrfsbase; with a prefix: clwb, ptwrite, ...; /7: clflush */
		if (modrm >> 6 == 3 || mandatory(p) != MP_NONE || reg == 7)
			return -1;
		set(in, reg == 1 || reg == 2 || reg == 5 ? A_R : A_W, reg == 2 || reg == 3 ? 4 : 0,
		    0);
		return finish_rm(c, modrm, in);
	case 0x77: /* emms: no ModRM */
		return -1;
	}
	/* SSE: the mandatory prefix selects the instruction; F2 with F3 is refused. */
	if (p->rep && p->repne)
		return -1;
	struct sse x = {.mp = mandatory(p), .w = (p->rex & REX_W) != 0};
	if (op == 0x38 || op == 0x3a) {
		uint8_t op3;
		if (x86_get8(c, &op3) < 0 || x86_get8(c, &modrm) < 0)
			return -1;
		rc = op == 0x38 ? legacy_0f38(op3, p, &x, in) : legacy_0f3a(op3, &x, in);
	} else {
		if (op < 0x10 || x86_get8(c, &modrm) < 0)
			return -1;
		rc = sse_0f(op, &x, modrm, in);
	}
	if (rc < 0)
		return -1;
	return finish_rm(c, modrm, in);
}

/* The one-byte opcodes. */
static int decode_one(struct x86_cursor *c, const struct x86_prefixes *p, uint8_t op,
		      struct insn *in)
{
	unsigned os = osize(p), bs = op & 1 ? os : 1, reg;
	uint8_t modrm, level;

	/* 00-3B: add or adc sbb and sub xor cmp; 0x26 0x2e 0x36 0x3e are prefixes. */
	if (op < 0x40 && (op & 7) < 4) {
		if (op & 2) /* op r, r/m */
			return rm(c, in, A_R, bs, 0);
		/* op r/m, r: a read-modify-write, but cmp only reads */
		return rm(c, in, (op & 0x38) == 0x38 ? A_R : A_RW | A_LOCK, bs, 0);
	}
	switch (op) {
	case 0x50 ... 0x57: /* push r */
	case 0x9c:	    /* pushf */
		set(in, A_SW, ssize(p), 0);
		return 0;
	case 0x58 ... 0x5f: /* pop r */
	case 0x9d:	    /* popf */
		set(in, A_SR, ssize(p), 0);
		return 0;
	case 0x63: /* movsxd r, r/m32 (66: r/m16) */
		return rm(c, in, A_R, p->opsize && !(p->rex & REX_W) ? 2 : 4, 0);
	case 0x68: /* push imm */
		set(in, A_SW, ssize(p), 0);
		return x86_skip(c, isize(p));
	case 0x6a: /* push imm8 */
		set(in, A_SW, ssize(p), 0);
		return x86_skip(c, 1);
	case 0x69: /* imul r, r/m, imm */
		return rm(c, in, A_R, os, isize(p));
	case 0x6b: /* imul r, r/m, imm8 */
		return rm(c, in, A_R, os, 1);
	case 0x6c: /* insb: stores to [rdi] */
	case 0x6d: /* insw insd (REX.W: still 4) */
		set(in, A_IW, op & 1 ? (p->opsize && !(p->rex & REX_W) ? 2 : 4) : 1, 0);
		return 0;
	case 0x6e: /* outsb: loads from [rsi] */
	case 0x6f:
		set(in, A_IR, op & 1 ? (p->opsize && !(p->rex & REX_W) ? 2 : 4) : 1, 0);
		return 0;
	case 0x80: /* group 1, imm8 (82 is invalid in 64-bit mode) */
	case 0x81: /* imm16/32 */
	case 0x83: /* imm8, sign-extended */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		/* /7 is cmp: read only */
		set(in, (modrm & 0x38) == 0x38 ? A_R : A_RW | A_LOCK, op == 0x80 ? 1 : os,
		    op == 0x81 ? isize(p) : 1);
		return finish_rm(c, modrm, in);
	case 0x84: /* test r/m, r */
	case 0x85:
	case 0x8a: /* mov r, r/m */
	case 0x8b:
		return rm(c, in, A_R, bs, 0);
	case 0x86: /* xchg r/m, r: locked even without a prefix */
	case 0x87:
		return rm(c, in, A_RW | A_LOCK, bs, 0);
	case 0x88: /* mov r/m, r */
	case 0x89:
		return rm(c, in, A_W, bs, 0);
	case 0x8c: /* mov r/m16, sreg: a 2-byte store whatever the operand size */
	case 0x8e: /* mov sreg, r/m16 (not cs) */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		if (reg > 5 || (op == 0x8e && reg == 1))
			return -1;
		set(in, op == 0x8c ? A_W : A_R, 2, 0);
		return finish_rm(c, modrm, in);
	case 0x8f: /* pop r/m: reads the stack, writes the operand (/1-/7: XOP) */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		if (modrm & 0x38)
			return -1;
		set(in, A_W | A_SR, ssize(p), 0);
		return finish_rm(c, modrm, in);
	case 0xa0: /* mov al, moffs */
	case 0xa1: /* mov eax, moffs */
	case 0xa2: /* mov moffs, al */
	case 0xa3: /* mov moffs, eax */
		set(in, op & 2 ? A_W : A_R, bs, 0);
		return x86_skip(c, p->addr32 ? 4 : 8);
	case 0xa4: /* movs: [rsi] to [rdi] */
	case 0xa5:
		set(in, A_IR | A_IW, bs, 0);
		return 0;
	case 0xa6: /* cmps: [rsi] and [rdi] */
	case 0xa7:
	case 0xac: /* lods: [rsi] */
	case 0xad:
	case 0xae: /* scas: [rdi] */
	case 0xaf:
		set(in, A_IR, bs, 0);
		return 0;
	case 0xaa: /* stos: [rdi] */
	case 0xab:
		set(in, A_IW, bs, 0);
		return 0;
	case 0xc0: /* shift group, imm8 (/6 is sal) */
	case 0xc1:
		return rm(c, in, A_RW, bs, 1);
	case 0xd0: /* shift group by 1 */
	case 0xd1:
	case 0xd2: /* by cl */
	case 0xd3:
		return rm(c, in, A_RW, (op & 1) ? os : 1, 0);
	case 0xc2: /* ret imm16 */
	case 0xc3: /* ret (F3: rep ret, F2: bnd ret) */
		if (branch16(p))
			return -1;
		set(in, A_SR, 8, 0);
		return x86_skip(c, op == 0xc2 ? 2 : 0);
	case 0xc6: /* mov r/m, imm (/7 with mod 3: xabort, xbegin) */
	case 0xc7:
		if (x86_get8(c, &modrm) < 0)
			return -1;
		if (modrm & 0x38)
			return -1;
		set(in, A_W, bs, op == 0xc6 ? 1 : isize(p));
		return finish_rm(c, modrm, in);
	case 0xc8: /* enter imm16, imm8: pushes rbp; a level > 1 copies frame pointers */
		if (x86_skip(c, 2) < 0 || x86_get8(c, &level) < 0)
			return -1;
		set(in, (level & 0x1f) > 1 ? A_SW | A_SR : A_SW, ssize(p), 0);
		return 0;
	case 0xc9: /* leave: pops rbp from [rbp] */
		set(in, A_SR, ssize(p), 0);
		return 0;
	case 0xd7: /* xlat: [rbx + al] */
		set(in, A_IR, 1, 0);
		return 0;
	case 0xd8 ... 0xdf:
		return decode_x87(c, op, in);
	case 0xe8: /* call rel32 */
		if (branch16(p))
			return -1;
		set(in, A_SW, 8, 0);
		return x86_skip(c, 4);
	case 0xf6: /* group 3 */
	case 0xf7:
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		if (reg < 2) /* test r/m, imm */
			set(in, A_R, bs, op == 0xf6 ? 1 : isize(p));
		else if (reg < 4) /* not neg */
			set(in, A_RW | A_LOCK, bs, 0);
		else /* mul imul div idiv */
			set(in, A_R, bs, 0);
		return finish_rm(c, modrm, in);
	case 0xfe: /* inc dec r/m8 */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		if ((modrm & 0x38) > 0x08)
			return -1;
		set(in, A_RW | A_LOCK, 1, 0);
		return finish_rm(c, modrm, in);
	case 0xff: /* inc dec call jmp push (/3 /5: far, /7: reserved) */
		if (x86_get8(c, &modrm) < 0)
			return -1;
		reg = (modrm >> 3) & 7;
		if (reg < 2)
			set(in, A_RW | A_LOCK, os, 0);
		else if ((reg == 2 || reg == 4) && !branch16(p))
			set(in, reg == 2 ? A_R | A_SW : A_R, 8, 0);
		else if (reg == 6)
			set(in, A_R | A_SW, ssize(p), 0);
		else
			return -1;
		return finish_rm(c, modrm, in);
	default:
		return -1;
	}
}

static int decode(struct x86_cursor *c, struct x86_prefixes *p, struct insn *in)
{
	uint8_t b;

	if (x86_prefixes(c, p, &b) < 0)
		return -1;
	if (b == 0xc4 || b == 0xc5)
		return decode_vex(c, p, b, in);
	if (b == 0x0f)
		return decode_0f(c, p, in);
	return decode_one(c, p, b, in);
}

int ptrace_access_decode(const uint8_t *buf, size_t n, struct ptrace_access *out)
{
	struct x86_cursor c = {buf, 0, n < PTRACE_ACCESS_MAX_LEN ? n : PTRACE_ACCESS_MAX_LEN};
	struct x86_prefixes p;
	struct insn in = {0};

	memset(out, 0, sizeof(*out));
	if (!buf || decode(&c, &p, &in) < 0)
		return -1;
	/* lock: only on a read-modify-write of memory (#UD otherwise). */
	if (p.lock && !(in.flags & A_LOCK))
		return -1;
	if (!(in.flags & A_ANY))
		return -1; /* a register form, or no access at all */
	out->read = (in.flags & (A_R | A_IR | A_SR)) != 0;
	out->write = (in.flags & (A_W | A_IW)) != 0;
	out->stack_read = (in.flags & A_SR) != 0;
	out->stack_write = (in.flags & A_SW) != 0;
	out->rdi_write = (in.flags & A_IW) != 0;
	out->size = (uint8_t)in.size;
	out->len = (uint8_t)c.pos;
	return 0;
}
