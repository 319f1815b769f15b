#!/bin/sh
# wl_test.sh: the workload tests (registered in meson.build).
#   wl_test.sh checksum SUM BIN ARGS...   BIN ARGS exits 0 and prints "checksum SUM"
#   wl_test.sh badargs BIN                bad arguments exit 2 with a usage; -h exits 0
#   wl_test.sh tracefile CHECK BIN OUT N  traced gups with N updates writes a valid trace
#   wl_test.sh nobackend BIN              traced build without DMTVM_TRACE_OUT still runs
#   wl_test.sh badtrace CHECK             trace_check rejects malformed trace files
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mode=$1; shift
case $mode in
checksum)
	sum=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err" || fail "$* exited $?: $(cat "$tmp/err")"
	cat "$tmp/out"
	got=$(sed -n 's/^checksum //p' "$tmp/out")
	[ "$got" = "$sum" ] || fail "$*: checksum '$got', expected '$sum'"
	;;
badargs)
	bin=$1
	for args in "-m bogus" "-m 12Q" "-m" "-z 1" "positional" "-m -1" "-n 0" "-s 1 -- x"; do
		# shellcheck disable=SC2086 # word splitting of $args is the point
		"$bin" $args >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ $rc -eq 2 ] || fail "$bin $args: exit $rc, expected 2"
		grep -q '^usage: ' "$tmp/err" || fail "$bin $args: no usage on stderr"
		[ -s "$tmp/out" ] && fail "$bin $args: wrote to stdout"
	done
	"$bin" -h >"$tmp/out" 2>&1 || fail "$bin -h: exit $?, expected 0"
	grep -q '^usage: ' "$tmp/out" || fail "$bin -h: no usage"
	;;
tracefile)
	check=$1 bin=$2 out=$3 n=$4
	rm -f "$out"
	DMTVM_TRACE_OUT=$out "$bin" -m 64K -n "$n" || fail "$bin exited $?"
	# Fetch PCs must be the program's own code: [first, last] text symbol.
	lo=$(nm -n "$bin" | awk '$2 ~ /^[Tt]$/ { print "0x" $1; exit }')
	hi=$(nm -n "$bin" | awk '$2 ~ /^[Tt]$/ { a = $1 } END { print "0x" a }')
	# gups: >= 1 load + 1 store of the table per update; <= 8 records per update.
	"$check" "$out" --min-loads "$n" --min-stores "$n" --min-fetches 1 \
		--max-records $((8 * n + 64)) --text "$lo" "$hi" || fail "trace check"
	;;
nobackend)
	bin=$1
	env -u DMTVM_TRACE_OUT "$bin" -m 64K -n 1024 >"$tmp/out" 2>"$tmp/err" ||
		fail "$bin exited $?"
	grep -q 'no trace back-end' "$tmp/err" || fail "no message about the missing back-end"
	grep -q '^checksum ' "$tmp/out" || fail "no checksum"
	;;
badtrace)
	check=$1
	hdr='DMTVMTRC\001\000\000\000\010\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
	begin='\000\000\000\000\000\000\001\003'
	end='\000\000\000\000\000\000\002\003'
	load='\000\020\000\000\000\000\010\000'
	printf "$hdr$begin$load$end" >"$tmp/good"
	"$check" "$tmp/good" --min-loads 1 >/dev/null || fail "valid trace rejected"
	for bad in "" "DMTVMTRX" "$hdr" "$hdr$load" "$hdr$begin$load" "$hdr$end" \
		"$hdr$begin$load$end\000\000\000"; do
		printf "$bad" >"$tmp/bad"
		"$check" "$tmp/bad" >/dev/null 2>&1
		rc=$?
		[ $rc -eq 1 ] || fail "trace_check accepted a bad trace (exit $rc): $bad"
	done
	"$check" "$tmp/good" --min-loads 2 >/dev/null 2>&1 && fail "--min-loads not enforced"
	"$check" "$tmp/good" --max-records 2 >/dev/null 2>&1 && fail "--max-records not enforced"
	;;
*)
	fail "unknown mode $mode"
	;;
esac
exit 0
