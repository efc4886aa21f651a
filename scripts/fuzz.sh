#!/usr/bin/env bash
# Fuzzes one wire parser with libFuzzer + AddressSanitizer.
# Usage: scripts/fuzz.sh TARGET [SECONDS] [RUNS]
#   TARGET   connect (the CONNECT decoder and the MQTT frame decoder), proxy-header (PROXY protocol v1/v2),
#            client-hello (the TLS ClientHello reader), framing (the relay's MQTT framing tracker), json (admin API
#            bodies: the parser and the validation) or yaml-store (the APISIX standalone file)
#   SECONDS  time limit (default 60); RUNS: stop after that many executions instead (e.g. 10000000)
# Seeds come from the target's committed corpus (copied; it is never modified):
#   connect       Tests/MQTTCodecTests/Fixtures/fuzz-corpus
#   proxy-header  Tests/ProxyProtocolTests/Fixtures/fuzz-corpus
#   client-hello  Tests/TLSWireTests/Fixtures/fuzz-corpus
#   framing       Tests/MQTTCodecTests/Fixtures/fuzz-corpus (MQTT packets: the same seeds as connect)
#   json          Tests/ProxyModelTests/Fixtures/fuzz-corpus/json
#   yaml-store    Tests/ProxyModelTests/Fixtures/fuzz-corpus/yaml
# Crashing inputs land in fuzz-artifacts/; add each one to the seed corpus and to a regression test.
set -euo pipefail

target="${1:-}"
seconds="${2:-60}"
runs="${3:-}"
case "$target" in
    connect) seeds=Tests/MQTTCodecTests/Fixtures/fuzz-corpus ;;
    proxy-header) seeds=Tests/ProxyProtocolTests/Fixtures/fuzz-corpus ;;
    client-hello) seeds=Tests/TLSWireTests/Fixtures/fuzz-corpus ;;
    framing) seeds=Tests/MQTTCodecTests/Fixtures/fuzz-corpus ;;
    json) seeds=Tests/ProxyModelTests/Fixtures/fuzz-corpus/json ;;
    yaml-store) seeds=Tests/ProxyModelTests/Fixtures/fuzz-corpus/yaml ;;
    *) echo "usage: scripts/fuzz.sh connect|proxy-header|client-hello|framing|json|yaml-store [SECONDS] [RUNS]" >&2
       exit 2 ;;
esac
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
echo "==> building the fuzzer with libFuzzer and ASan"
swift build "${build_flags[@]}"
binary="$(swift build "${build_flags[@]}" --show-bin-path)/ConnectFuzzer"

corpus="$(mktemp -d "${TMPDIR:-/tmp}/$target-corpus.XXXXXX")"
log="$(mktemp "${TMPDIR:-/tmp}/$target-fuzz.XXXXXX.log")"
trap 'rm -rf "$corpus"' EXIT
cp "$seeds"/* "$corpus/"
mkdir -p fuzz-artifacts

limit=(-max_total_time="$seconds")
[ -n "$runs" ] && limit=(-runs="$runs")
what="${seconds}s"
[ -n "$runs" ] && what="$runs runs"
echo "==> fuzzing $target ($what; working corpus $corpus, log $log)"
status=0
FUZZ_TARGET="$target" "$binary" "$corpus" \
    "${limit[@]}" \
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
