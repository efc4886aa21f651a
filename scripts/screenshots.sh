#!/usr/bin/env bash
# Real screenshots of the console: runs `mqtt-proxy demo --seed 7` (release build) under tmux at a fixed size,
# visits each view, the connection detail, a broker kill and the rebalance preview with send-keys; then a second
# instance (`serve`, the demo's route, 40 clients of its own) and a console attached to both (the fleet view, and
# the second instance killed); captures each screen with `tmux capture-pane -e`, turns it into HTML with aha and
# into a PNG with headless Chromium.
# Output: screenshots/*.png. Installs aha, chromium and a monospace font from Debian when they are missing.
# Usage: scripts/screenshots.sh [COLUMNS ROWS]   (default 120 36; SCREENSHOTS_SCRATCH=dir: release build folder)
set -euo pipefail
cd "$(dirname "$0")/.."
COLS=${1:-120}
ROWS=${2:-36}
OUT=screenshots
need=()
command -v aha >/dev/null || need+=(aha)
command -v chromium >/dev/null || need+=(chromium)
command -v tmux >/dev/null || need+=(tmux)
fc-list 2>/dev/null | grep -q "DejaVu Sans Mono" || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
    echo "screenshots: installing ${need[*]}"
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
# SCREENSHOTS_SCRATCH=dir reuses another release build folder (e.g. bench.sh's .build-bench).
SCRATCH=${SCREENSHOTS_SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product mqtt-proxy >/dev/null
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/mqtt-proxy
WORK=$(mktemp -d)
SESSION="mqtt-proxy-shots-$$"
FLEET="mqtt-proxy-fleet-$$"
PIDS=()
cleanup() {
    tmux kill-session -t "$FLEET" 2>/dev/null || true
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"

. scripts/common.sh   # (the working folder is the repository here)
KEY=edd1c9f034335f136f87ad84b625c8f1
DEMO_ADMIN=$(free_port)
tmux new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
    "cd '$WORK' && TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 '$BIN' demo --seed 7 --clients 200 --churn 2/s --admin-port $DEMO_ADMIN; sleep 5"
send() { tmux send-keys -t "$SESSION" "$@"; sleep 1.2; }
shot() {
    local name=$1 title=$2
    tmux capture-pane -t "$SESSION" -e -p > "$WORK/$name.ansi"
    aha --black --title "$title" < "$WORK/$name.ansi" > "$WORK/$name.html"
    # A monospace font with box-drawing characters, no margins, one terminal cell = 9 x 18 px.
    sed -i 's|</head>|<style>body{margin:0;padding:8px;background:#000} pre{margin:0;font-family:"DejaVu Sans Mono",monospace;font-size:15px;line-height:18px}</style></head>|' "$WORK/$name.html"
    chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=$((COLS * 9 + 16)),$((ROWS * 18 + 16)) \
        --screenshot="$PWD/$OUT/$name.png" "file://$WORK/$name.html" >/dev/null 2>&1
    echo "screenshots: $OUT/$name.png ($title)"
}

sleep 8                                   # brokers up, 200 clients connected
shot 1-connections "Connections"
send 2; sleep 1
shot 2-clients-nodes "Clients → Nodes"
send 3
shot 3-routes "Routes"
send 4
shot 4-log "Log"
send 1; send Enter
shot 5-connection-detail "Connection detail"
send Escape
send 2; send j; send k; sleep 4            # kill broker-2: its clients move to the next ring node
shot 6-broker-killed "Clients → Nodes after killing broker-2"
send r; sleep 4                            # revive: the same clients come back
send +; sleep 2                            # add a broker: the rebalance preview comes first
shot 7-rebalance-preview "Rebalance preview before adding broker-4"
send Escape
send "?"
shot 8-help "Help (demo mode)"
send Escape

# A second instance with the demo's route and 40 clients of its own (cam-edge-00, meter-edge-01…: they sort among
# the demo's), and a console attached to both.
EDGE_ADMIN=$(free_port); EDGE_STREAM=$(free_port)
instance_config "$WORK/edge.yaml" "$EDGE_STREAM" "$EDGE_ADMIN" edge-2
"$BIN" serve --config "$WORK/edge.yaml" --store "$WORK/edge-store.yaml" > "$WORK/edge.log" 2>&1 &
EDGE=$!
PIDS+=($EDGE)
for _ in $(seq 100); do grep -q "admin API on" "$WORK/edge.log" && break; sleep 0.1; done
curl -s "http://127.0.0.1:$DEMO_ADMIN/apisix/admin/stream_routes" -H "X-API-KEY: $KEY" | python3 -c '
import json, sys
for item in json.load(sys.stdin)["list"]:
    value = item["value"]
    for k in ("create_time", "update_time", "server_port"): value.pop(k, None)
    print(json.dumps(value))' | while read -r route; do
    id=$(printf '%s' "$route" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    curl -s -X PUT "http://127.0.0.1:$EDGE_ADMIN/apisix/admin/stream_routes/$id" -H "X-API-KEY: $KEY" -d "$route" >/dev/null
done
python3 - "$EDGE_STREAM" > "$WORK/holder.log" 2>&1 <<'PY' &
import socket, struct, sys, time
held = []
for i in range(40):
    cid = b"%s-edge-%02d" % ([b"cam", b"meter", b"sensor", b"truck"][i % 4], i)
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack(">H", len(cid)) + cid
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(bytes([0x10, len(body)]) + body)
    s.recv(4)
    held.append(s)
time.sleep(600)
PY
PIDS+=($!)
sleep 2
tmux new-session -d -s "$FLEET" -x "$COLS" -y "$ROWS" \
    "cd '$WORK' && TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 MQTT_PROXY_ADMIN_KEY=$KEY '$BIN' console --attach http://127.0.0.1:$DEMO_ADMIN --attach http://127.0.0.1:$EDGE_ADMIN --log-file '$WORK/attach.log'; sleep 5"
sleep 4
fleet_shot() { SESSION_SAVED=$SESSION; SESSION=$FLEET; shot "$@"; SESSION=$SESSION_SAVED; }
fleet_send() { tmux send-keys -t "$FLEET" "$@"; sleep 1.2; }
fleet_shot 9-fleet-connections "Attached to two instances: Connections"
fleet_send 2
fleet_shot 10-fleet-clients-nodes "Attached to two instances: Clients → Nodes"
fleet_send 1
kill -9 "$EDGE"; sleep 3
fleet_send i; fleet_send i                   # only edge-2's rows
fleet_shot 11-fleet-instance-lost "Attached: edge-2 killed, its rows greyed"
fleet_send q
send q; sleep 2
