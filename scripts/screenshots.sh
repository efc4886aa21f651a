#!/usr/bin/env bash
# Real screenshots of the console: runs `mqtt-proxy demo --seed 7` (release build) under tmux at a fixed size,
# visits each view, the connection detail, a broker kill and the rebalance preview with send-keys, captures
# each screen with `tmux capture-pane -e`, turns it into HTML with aha and into a PNG with headless Chromium.
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
cleanup() { tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$OUT"

tmux new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
    "cd '$WORK' && TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 '$BIN' demo --seed 7 --clients 200 --churn 2/s; sleep 5"
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
send q; sleep 2
