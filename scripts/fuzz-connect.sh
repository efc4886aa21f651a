#!/usr/bin/env bash
# Fuzzes the MQTT CONNECT decoder with libFuzzer + AddressSanitizer.
# Usage: scripts/fuzz-connect.sh [SECONDS]   (default 60)
# Seeds come from Tests/MQTTCodecTests/Fixtures/fuzz-corpus (copied; the committed corpus is never modified).
# Crashing inputs land in fuzz-artifacts/; add each one to the seed corpus and to a regression test.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

build_flags=(
    -c release
    --scratch-path .build-fuzz
    --product ConnectFuzzer
    -Xswiftc -sanitize=fuzzer,address
    -Xswiftc -enable-experimental-feature -Xswiftc Extern
    -Xswiftc -DFUZZING
)
echo "==> building ConnectFuzzer with libFuzzer and ASan"
swift build "${build_flags[@]}"
binary="$(swift build "${build_flags[@]}" --show-bin-path)/ConnectFuzzer"

corpus="$(mktemp -d "${TMPDIR:-/tmp}/connect-corpus.XXXXXX")"
log="$(mktemp "${TMPDIR:-/tmp}/connect-fuzz.XXXXXX.log")"
trap 'rm -rf "$corpus"' EXIT
cp Tests/MQTTCodecTests/Fixtures/fuzz-corpus/* "$corpus/"
mkdir -p fuzz-artifacts

echo "==> fuzzing for ${seconds}s (working corpus $corpus, log $log)"
status=0
"$binary" "$corpus" \
    -max_total_time="$seconds" \
    -max_len=4096 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix=fuzz-artifacts/ \
    >"$log" 2>&1 || status=$?

grep -E '^(INFO: Seed|#[0-9]+ +DONE)' "$log" || true
executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
echo "executions: ${executions:-unknown}"
echo "exec/s:     ${rate:-unknown}"
echo "corpus:     $(find "$corpus" -type f | wc -l) inputs after the run"

if [ "$status" -ne 0 ]; then
    echo "==> fuzzer stopped with status $status; last lines of the log:" >&2
    tail -40 "$log" >&2
    ls -1 fuzz-artifacts/ >&2 || true
    exit "$status"
fi
echo "==> no crashes"
