#!/usr/bin/env bash
# Micro-benchmarks of the CONNECT decoder and the chash ring lookup: ns/op, then heap allocations per op.
#
# Usage: scripts/microbench.sh [--where]
#   --where   also show, for each case that allocates, the functions that call malloc (valgrind xtree)
#
# Timings: the release-mode MicroBench harness, best of 3 rounds of 2,000,000 ops per case.
# Allocations: each case runs under valgrind's memcheck twice, with N and 2N ops; the "total heap usage:
# X allocs" lines differ only by the N extra ops, so (allocs(2N) - allocs(N)) / N is the count per op, with
# the harness's own setup cancelled out. Bounded: each valgrind run has a 120 s limit.
set -euo pipefail
cd "$(dirname "$0")/.."
WHERE=0
[ "${1:-}" = "--where" ] && WHERE=1
command -v valgrind >/dev/null || { echo "microbench: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

SCRATCH=${BENCH_SCRATCH:-.build-bench}
swift build -c release --scratch-path "$SCRATCH" --product MicroBench 2>&1 | grep -E "error|Build" >&2 || true
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/MicroBench
[ -x "$BIN" ] || { echo "microbench: build failed" >&2; exit 1; }
WORK=$(mktemp -d /tmp/microbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# valgrind 3.19 (Debian 12) gives up on the DWARF 5 that Swift 6's toolchain emits ("unhandled dwarf2 abbrev
# form code 0x25"); a copy without debug sections still has its symbol table, enough for function names.
VG_BIN=$WORK/MicroBench.nodebug
objcopy --strip-debug "$BIN" "$VG_BIN"

echo "== time per op ($(nproc) cores; release build)"
timeout 300 "$BIN" --iterations 2000000

N=20000
allocs() {  # allocs CASE ITERATIONS -> total heap allocations of the whole run
    timeout 120 valgrind --tool=memcheck --leak-check=no "$VG_BIN" --case "$1" --iterations "$2" --no-timing \
        2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,
}
echo
echo "== heap allocations per op (valgrind memcheck, (allocs(2N) - allocs(N)) / N, N = $N)"
ALLOCATING=()
for name in $("$BIN" --list); do
    one=$(allocs "$name" "$N")
    two=$(allocs "$name" $((2 * N)))
    per=$(python3 -c "print(f'{($two - $one) / $N:.2f}')")
    printf '%-26s %6s allocs/op   (N: %s allocs, 2N: %s allocs)\n' "$name" "$per" "$one" "$two"
    [ "$per" != "0.00" ] && ALLOCATING+=("$name")
done

if [ "$WHERE" = 1 ] && [ ${#ALLOCATING[@]} -gt 0 ]; then
    # memcheck's xtree report attributes every allocation to its call stack; callgrind_annotate sums the
    # "total blocks" event (totBk) per function, inclusive of callees, so the top lines name the allocators.
    for name in "${ALLOCATING[@]}"; do
        echo
        echo "== where $name allocates ($N ops; totBk = blocks allocated under each function)"
        timeout 120 valgrind --tool=memcheck --leak-check=no --xtree-memory=full \
            --xtree-memory-file="$WORK/$name.kcg" "$VG_BIN" --case "$name" --iterations "$N" --no-timing \
            >/dev/null 2>&1
        callgrind_annotate --inclusive=yes --show=totBk --sort=totBk "$WORK/$name.kcg" 2>/dev/null \
            | grep -E '^ *[0-9,]+ ' | sed 's/UnknownFile???://' | swift demangle --simplified | cut -c1-160 | head -16
    done
fi
