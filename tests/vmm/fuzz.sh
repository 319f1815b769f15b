#!/bin/sh
# fuzz.sh: run the VMM's libFuzzer targets for SECONDS each (default 60),
# starting from the checked-in corpora (copied: new inputs stay in $WORK).
#   tests/vmm/fuzz.sh [SECONDS]      (needs clang and libclang-rt-14-dev)
set -e
T=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/dmtvm-fuzz.XXXXXX)}
mkdir -p "$WORK"
CF="-g -O1 -fsanitize=fuzzer,address,undefined -I$ROOT/vmm -I$ROOT/pvdmt"
V=$ROOT/vmm
clang $CF "$ROOT/tests/vmm/fuzz_image.c" "$V/image.c" "$V/kernel_elf.c" "$V/crc32.c" -o "$WORK/fuzz_image"
clang $CF "$ROOT/tests/vmm/fuzz_json.c" "$V/json.c" "$V/jsonw.c" -o "$WORK/fuzz_json"
# The hypercall target includes the MMU model and the EPT builder (xlate).
H=$ROOT/hostmm
# the model's presets, built into libmmu as meson does (mmu-model/meson.build)
python3 "$ROOT/mmu-model/presets/embed.py" "$ROOT"/mmu-model/presets/*.conf "$WORK/mmu_presets.c"
clang $CF -DDMTVM_HAVE_REPLAY -I"$H" -I"$ROOT/mmu-model" "$ROOT/tests/vmm/fuzz_hypercall.c" \
	"$V/hypercall.c" "$V/console.c" "$V/hc_lifecycle.c" "$V/hc_zero.c" "$V/time.c" "$V/hostmem.c" \
	"$V/xlate.c" "$V/hc_xlate.c" "$V/xlate_l2.c" "$V/nkvm.c" "$V/jsonw.c" "$H/physmem.c" "$H/pgtable.c" "$H/simhv.c" \
	"$H/u64map.c" "$ROOT"/mmu-model/mmu_*.c "$WORK/mmu_presets.c" -I"$V/platform" "$V"/platform/ptrace*.c \
	-lpthread -o "$WORK/fuzz_hypercall"
clang $CF "$ROOT/tests/vmm/fuzz_ptrace_insn.c" "$V/platform/ptrace_insn.c" -o "$WORK/fuzz_ptrace_insn"
clang $CF "$ROOT/tests/vmm/fuzz_ptrace_access.c" "$V/platform/ptrace_access.c" -o "$WORK/fuzz_ptrace_access"
for t in image json hypercall ptrace_insn ptrace_access; do
	mkdir -p "$WORK/corpus-$t"
	cp "$ROOT/tests/vmm/corpus/$t/"* "$WORK/corpus-$t/"
	echo "fuzz_$t: $T s"
	"$WORK/fuzz_$t" -max_total_time="$T" -max_len=70000 -rss_limit_mb=4096 \
		"$WORK/corpus-$t" 2>"$WORK/fuzz_$t.log" || { tail -30 "$WORK/fuzz_$t.log"; exit 1; }
	grep -E '^Done' "$WORK/fuzz_$t.log" || true
done
echo "fuzz.sh: no crash; work in $WORK"
