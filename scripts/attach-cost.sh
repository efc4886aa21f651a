#!/usr/bin/env bash
# What an attached console costs the instance it follows (`mqtt-proxy console --attach`): a release `serve` with
# N sessions held (default 9,000), measured for S seconds without a console and with one attached (in tmux, in the
# Connections view, the view that reads the most), in two loads:
#   quiet  the held sessions and 10 reconnects a second (a steady fleet);
#   churn  the held sessions and mqtt-loadgen connecting as fast as one connection in flight allows.
# Prints, per load: the instance's CPU (cores, from /proc) without and with the console, the difference, the
# bytes a second the console read during the window (from /proc, after its first read of the whole list, which is
# shown apart) and the console's own CPU.
#
# Usage: scripts/attach-cost.sh [--held N] [--seconds S]      (ATTACH_BIN=folder skips the release build)
# Everything binds 127.0.0.0/8; every process started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
HELD=9000
SECONDS_PER_RUN=30
while [ $# -gt 0 ]; do
    case "$1" in
        --held) HELD=$2; shift 2 ;;
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        *) echo "usage: $0 [--held N] [--seconds S]" >&2; exit 2 ;;
    esac
done
for tool in tmux python3 swift; do command -v "$tool" >/dev/null || { echo "attach-cost: $tool is missing" >&2; exit 1; }; done
if [ -n "${ATTACH_BIN:-}" ]; then
    BIN=$ATTACH_BIN
else
    for product in mqtt-proxy mqtt-loadgen; do
        swift build -c release --scratch-path .build-bench --product "$product" >/dev/null
    done
    BIN=$(swift build -c release --scratch-path .build-bench --show-bin-path)
fi
ulimit -n "$(ulimit -Hn)"
WORK=$(mktemp -d /tmp/mqtt-proxy-attach-cost.XXXXXX)
PIDS=()
TMUX_SOCKET="attach-cost-$$"
cleanup() {
    tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
. scripts/common.sh   # (the working folder is the repository here)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
KEY=edd1c9f034335f136f87ad84b625c8f1

SINK1=$(free_port); SINK2=$(free_port); STREAM=$(free_port); ADMIN=$(free_port)
"$BIN/mqtt-loadgen" sink --listen "127.0.0.1:$SINK1,127.0.0.2:$SINK2" --threads 1 > "$WORK/sink.log" 2>&1 &
PIDS+=($!)
instance_config "$WORK/config.yaml" "$STREAM" "$ADMIN" measured
"$BIN/mqtt-proxy" serve --config "$WORK/config.yaml" --store "$WORK/apisix.yaml" > "$WORK/serve.log" 2>&1 &
PROXY=$!
PIDS+=($PROXY)
for _ in $(seq 100); do grep -q "admin API on" "$WORK/serve.log" && break; sleep 0.1; done
curl -sf -X PUT "http://127.0.0.1:$ADMIN/apisix/admin/stream_routes/1" -H "X-API-KEY: $KEY" -d "{\"plugins\":{\"mqtt-proxy\":{\"protocol_level\":4}},\"upstream\":{\"type\":\"chash\",\"key\":\"mqtt_client_id\",\"nodes\":{\"127.0.0.1:$SINK1\":1,\"127.0.0.2:$SINK2\":1}}}" >/dev/null

# The held sessions, with 10 reconnects a second, until killed.
python3 - "$STREAM" "$HELD" > "$WORK/holder.log" 2>&1 <<'PY' &
import random, socket, struct, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
def connect(i):
    cid = b"held-%05d" % i
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack(">H", len(cid)) + cid
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(bytes([0x10, len(body)]) + body)
    s.recv(4)
    return s
held = [connect(i) for i in range(count)]
print("held", count, flush=True)
while True:
    time.sleep(0.1)
    i = random.randrange(count)
    held[i].close()
    held[i] = connect(i)
PY
PIDS+=($!)
for _ in $(seq 600); do grep -q "^held" "$WORK/holder.log" && break; sleep 0.1; done
grep -q "^held" "$WORK/holder.log" || { echo "attach-cost: the sessions were not held: $(cat "$WORK/holder.log")" >&2; exit 1; }
sleep 2

# Instance CPU in cores over the window, with `load` running ("" for none).
measure() {
    local load=$1 before after loadpid=""
    if [ "$load" = churn ]; then
        "$BIN/mqtt-loadgen" connect --target "127.0.0.1:$STREAM" --threads 1 --concurrency 1 --pid "$PROXY" \
            --duration "$SECONDS_PER_RUN" --warmup 0 > "$WORK/loadgen-$2.json" 2>&1 &
        loadpid=$!
    fi
    before=$(cpu_ticks "$PROXY")
    sleep "$SECONDS_PER_RUN"
    after=$(cpu_ticks "$PROXY")
    [ -n "$loadpid" ] && wait "$loadpid"
    python3 -c "print(f'{($after - $before) / 100 / $SECONDS_PER_RUN:.4f}')"
}

run_console() {
    rm -f "$WORK/attach.log"
    tmux -L "$TMUX_SOCKET" new-session -d -s c -x 120 -y 40 \
        "env TERM=tmux-256color LANG=C.UTF-8 MQTT_PROXY_ADMIN_KEY=$KEY $BIN/mqtt-proxy console --attach http://127.0.0.1:$ADMIN --log-file $WORK/attach.log"
    for _ in $(seq 100); do tmux -L "$TMUX_SOCKET" capture-pane -p -t c 2>/dev/null | grep -q "measured ●" && break; sleep 0.2; done
    sleep 3   # its first whole read of the connection list is behind it
    ATTACHED_AT=$(date +%s.%N)
    CONSOLE=$(tmux -L "$TMUX_SOCKET" list-panes -t c -F '#{pane_pid}')
    # The pane's shell may have run the console as its child rather than become it.
    if [ "$(cat "/proc/$CONSOLE/comm")" != mqtt-proxy ]; then CONSOLE=$(pgrep -P "$CONSOLE" -x mqtt-proxy | head -1); fi
}
read_bytes() { awk '/^rchar:/ {print $2}' "/proc/$1/io"; }

stop_console() {
    tmux -L "$TMUX_SOCKET" send-keys -t c q
    for _ in $(seq 50); do grep -q "followed " "$WORK/attach.log" 2>/dev/null && break; sleep 0.1; done
    tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
    sed -n 's/.*received \([0-9]*\) bytes.*/\1/p' "$WORK/attach.log" | tail -1
}

printf '%-7s %14s %14s %10s %14s %14s %14s\n' load "cpu without" "cpu with" "added" "console KB/s" "console cpu" "first read"
for load in quiet churn; do
    without=$(measure "$load" without)
    run_console
    first=$(read_bytes "$CONSOLE")
    c_before=$(cpu_ticks "$CONSOLE"); started=$(date +%s.%N)
    with=$(measure "$load" with)
    c_after=$(cpu_ticks "$CONSOLE"); ended=$(date +%s.%N)
    last=$(read_bytes "$CONSOLE")
    stop_console >/dev/null
    python3 - "$load" "$without" "$with" "$first" "$last" "$started" "$ended" "$c_before" "$c_after" <<'PY'
import sys
load, without, with_ = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
first, last, t0, t1, c0, c1 = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), \
    int(sys.argv[8]), int(sys.argv[9])
print(f"{load:<7} {without:>8.3f} cores {with_:>8.3f} cores {(with_ - without) * 100:>+9.2f}% "
      f"{(last - first) / 1000 / (t1 - t0):>9.1f} KB/s {(c1 - c0) / 100 / (t1 - t0):>8.3f} cores {first / 1e6:>11.1f} MB")
PY
    if [ "$load" = churn ]; then
        python3 - "$WORK/loadgen-without.json" "$WORK/loadgen-with.json" <<'PY'
import json, sys
def metric(path, name):
    text = open(path).read()
    start = text.find("{")
    return json.loads(text[start:])["metrics"][name] if start >= 0 else float("nan")
a, b = (metric(p, "target_cpu_us_per_conn") for p in sys.argv[1:3])
ra, rb = (metric(p, "rate") for p in sys.argv[1:3])
print(f"churn   instance CPU per connection {a:.0f} µs without, {b:.0f} µs with ({(b - a) / a * 100:+.1f} %); "
      f"{ra:.0f} and {rb:.0f} connects/s")
PY
    fi
done
echo "added: the instance's CPU with the console attached minus without, in % of one core; first read: what the"
echo "console read while attaching (the whole list of $HELD connections), before the window"
