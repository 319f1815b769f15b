#!/bin/sh
# fuzz.sh: libFuzzer runs of the trace readers and of the whole replay
# pipeline (clang -fsanitize=fuzzer,address,undefined).
# Usage: tests/replay/fuzz.sh [SECONDS] [OUTDIR] [TARGETS]  (lackey dmtvm replay)
# Each target runs SECONDS (default 60) from a copy of its checked-in seed
# corpus; new inputs stay in OUTDIR/corpus-TARGET, crashes in OUTDIR.
# Needs clang and libclang-rt-14-dev (tools/setup-deps).
set -eu
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${2:-"$root/build/fuzz-replay"}
mkdir -p "$out"
targets=${3:-"lackey dmtvm replay"}
cc=${CC_FUZZ:-clang}
status=0
for t in $targets; do
	bin="$out/fuzz_$t"
	src="$here/fuzz_$t.c" def=""
	if [ "$t" = replay ]; then
		# the pipeline: every replay source, hostmm and the model
		srcs="$(ls "$root"/tools/replay/*.c | grep -v dmtvm_replay.c) $root/hostmm/*.c"
		# the model's presets, built into libmmu as meson does
		python3 "$root/mmu-model/presets/embed.py" "$root"/mmu-model/presets/*.conf \
			"$out/mmu_presets.c"
		srcs="$srcs $root/mmu-model/mmu_*.c $root/mmu-model/lanes/lanes.c $out/mmu_presets.c"
	else
		src="$here/fuzz_trace.c"
		[ "$t" = lackey ] && def="-DFUZZ_FORMAT=TRACE_FMT_LACKEY"
		srcs="$root/tools/replay/trace_reader.c $root/tools/replay/trace_lackey.c"
		srcs="$srcs $root/tools/replay/trace_dmtvm.c"
	fi
	# shellcheck disable=SC2086
	$cc -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$root/tools/replay" -I"$root/hostmm" -I"$root/pvdmt" -I"$root/mmu-model" \
		-I"$root/mmu-model/lanes" $def "$src" $srcs -lm -pthread -o "$bin"
	mkdir -p "$out/corpus-$t"
	cp "$here/corpus/$t/"* "$out/corpus-$t/"
	echo "fuzz.sh: fuzz_$t for ${secs}s"
	if ! (cd "$out" && "$bin" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$t-" "$out/corpus-$t" 2>"$out/fuzz_$t.log"); then
		echo "fuzz.sh: fuzz_$t FAILED: see $out/fuzz_$t.log and $out/crash-$t-*" >&2
		status=1
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz_$t.log" | sed "s/^/fuzz_$t: /"
done
exit $status
