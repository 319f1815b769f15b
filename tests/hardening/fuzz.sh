#!/bin/sh
# fuzz.sh: libFuzzer run of the MMU model's page walkers over arbitrary
# table bytes (fuzz_walk.c) for SECONDS (default 60), from a copy of the
# checked-in seed corpus; new inputs stay in OUTDIR/corpus-walk, crashes in
# OUTDIR/crash-walk-*. A crash's input goes into corpus/walk/ with its fix.
#   tests/hardening/fuzz.sh [SECONDS] [OUTDIR]   (needs clang, libclang-rt-14-dev)
set -eu
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${2:-"$root/build/fuzz-hardening"}
mkdir -p "$out/corpus-walk"
# the model's presets, built into libmmu as meson does (mmu-model/meson.build)
python3 "$root/mmu-model/presets/embed.py" "$root"/mmu-model/presets/*.conf "$out/mmu_presets.c"
${CC_FUZZ:-clang} -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$root/mmu-model" -I"$root/pvdmt" "$here/fuzz_walk.c" "$root"/mmu-model/mmu_*.c "$out/mmu_presets.c" -lm \
	-o "$out/fuzz_walk"
cp "$here/corpus/walk/"* "$out/corpus-walk/"
echo "fuzz.sh: fuzz_walk for ${secs}s"
if ! (cd "$out" && ./fuzz_walk -max_total_time="$secs" -max_len=70000 -rss_limit_mb=4096 \
	-print_final_stats=1 -artifact_prefix="$out/crash-walk-" "$out/corpus-walk" \
	2>"$out/fuzz_walk.log"); then
	tail -40 "$out/fuzz_walk.log"
	echo "fuzz.sh: fuzz_walk FAILED: see $out/fuzz_walk.log and $out/crash-walk-*" >&2
	exit 1
fi
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz_walk.log" | sed "s/^/fuzz_walk: /"
