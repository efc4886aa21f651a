#!/usr/bin/env bash
# mqtt-proxy against HAProxy 2.6 and against no proxy at all ("direct"), same workloads, one machine, one run.
#
# Usage: scripts/bench.sh [--runs N] [--seconds S] [--mosquitto] [--proxy-protocol] [--keep]
#   --runs N      rounds of the interleaved runs (default 3; each round runs direct, mqtt-proxy, haproxy)
#   --seconds S   measured seconds per run, after a 1 s warm-up (default 4)
#   --mosquitto   realism check: two real mosquitto brokers as the upstream, connect scenario only
#   --proxy-protocol  both proxies send a PROXY v2 header to the brokers (mqtt-proxy: upstream proxy_protocol v2;
#                 HAProxy: send-proxy-v2); the test upstream reads it (mosquitto 2.0 cannot: not with --mosquitto)
#   --keep        keep the work folder (configs, logs, results.jsonl) and print its path
#
# What it does: release builds of mqtt-proxy and mqtt-bench; raises `ulimit -n` to the hard limit; installs
# haproxy with apt-get if missing; writes configs for both proxies with two upstream nodes on free loopback
# ports (chash on the MQTT client id in both); then
#   1. idle:  N sessions held through each (freshly started) proxy, RSS growth per connection from /proc;
#   2. for each round: connect, throughput, latency, each run against direct, mqtt-proxy and haproxy in turn;
#   3. prints the table of medians with the ratios mqtt-proxy/haproxy and mqtt-proxy/direct.
# The test upstream runs inside each mqtt-bench process (two listening ports = two nodes), so client, upstream
# and proxy share the machine's cores alike for every target. Everything binds 127.0.0.0/8 only, every
# process started here is stopped by PID on exit, and the whole run takes about 3 minutes (≤ 5).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
SECONDS_PER_RUN=4
WARMUP=1
MOSQUITTO=0
PROXY_PROTOCOL=0
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        --mosquitto) MOSQUITTO=1; shift ;;
        --proxy-protocol) PROXY_PROTOCOL=1; shift ;;
        --keep) KEEP=1; shift ;;
        *) echo "usage: $0 [--runs N] [--seconds S] [--mosquitto] [--proxy-protocol] [--keep]" >&2; exit 2 ;;
    esac
done
if [ "$MOSQUITTO" = 1 ] && [ "$PROXY_PROTOCOL" = 1 ]; then
    echo "bench: --proxy-protocol needs the test upstream (mosquitto 2.0 does not read PROXY headers)" >&2; exit 2
fi
PP_ROUTE=""
PP_SERVER=""
if [ "$PROXY_PROTOCOL" = 1 ]; then
    PP_ROUTE="proxy_protocol: v2"
    PP_SERVER="send-proxy-v2"
fi
STARTED=$(date +%s)
log() { printf '[%3ds] %s\n' "$(( $(date +%s) - STARTED ))" "$*" >&2; }

# --- tools -------------------------------------------------------------------------------------------------
if ! command -v haproxy >/dev/null; then
    log "installing haproxy (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }
fi
if [ "$MOSQUITTO" = 1 ] && ! command -v mosquitto >/dev/null; then
    log "installing mosquitto (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
fi
for tool in haproxy python3 swift; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done

# A scratch path of our own, so this never waits on (or invalidates) another build folder.
SCRATCH=${BENCH_SCRATCH:-.build-bench}
log "release build (scratch path $SCRATCH)"
for product in mqtt-proxy mqtt-bench; do
    # A failed build must stop the run: an old binary left in the folder would be measured instead.
    if ! swift build -c release --scratch-path "$SCRATCH" --product "$product" > "/tmp/bench-build-$$.log" 2>&1; then
        grep -E "error" "/tmp/bench-build-$$.log" >&2; rm -f "/tmp/bench-build-$$.log"
        echo "bench: release build of $product failed" >&2; exit 1
    fi
done
rm -f "/tmp/bench-build-$$.log"
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
[ -x "$BIN/mqtt-proxy" ] && [ -x "$BIN/mqtt-bench" ] || { echo "bench: build failed" >&2; exit 1; }
BUILT=$(date +%s)

# Every process here inherits the raised limit. The hard limit bounds the idle scenario: a proxy holds two
# descriptors per session (client + upstream), and so does the bench process (client + in-process upstream).
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
IDLE_CONNECTIONS=$(( (NOFILE - 600) / 2 ))
[ "$IDLE_CONNECTIONS" -gt 10000 ] && IDLE_CONNECTIONS=10000

# --- work folder, ports, cleanup ----------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/mqtt-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
PIDS=()          # long-lived helpers (mosquitto); the proxies are tracked in PROXY_PID / HAPROXY_PID
PROXY_PID=""
HAPROXY_PID=""
stop_proxies() {
    for pid in $PROXY_PID $HAPROXY_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PROXY_PID=""
    HAPROXY_PID=""
}
cleanup() {
    stop_proxies
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$KEEP" = 1 ]; then echo "bench: work folder kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NODE1=$(free_port); NODE2=$(free_port); PROXY_PORT=$(free_port); HAPROXY_PORT=$(free_port); ADMIN_PORT=$(free_port)
NODES="127.0.0.1:$NODE1,127.0.0.1:$NODE2"

# --- configs ------------------------------------------------------------------------------------------------
# mqtt-proxy: one loopback listener, one stream route with the mqtt-proxy plugin, chash on the client id over
# the two nodes. Log level notice: the "ready:" line, but no line per connection.
cat > "$WORK/config.yaml" <<YAML
apisix:
  proxy_mode: stream
  stream_proxy:
    tcp:
      - "127.0.0.1:$PROXY_PORT"
deployment:
  admin:
    admin_key: [{name: admin, key: bench-key-0123456789, role: admin}]
    admin_listen: {ip: 127.0.0.1, port: $ADMIN_PORT}
mqtt_proxy:
  log_level: notice
YAML
cat > "$WORK/apisix.yaml" <<YAML
stream_routes:
  - id: bench
    plugins:
      mqtt-proxy: {protocol_name: MQTT, protocol_level: 4}
    upstream:
      type: chash
      key: mqtt_client_id
      nodes: {"127.0.0.1:$NODE1": 1, "127.0.0.1:$NODE2": 1}
      $PP_ROUTE
upstreams: []
ssls: []
#END
YAML
# HAProxy 2.6: accept once the payload is a valid MQTT CONNECT (waiting up to 5 s for it), hash the client id
# consistently over the same two nodes; a CONNECT with an empty client id falls back to the source address.
cat > "$WORK/haproxy.cfg" <<CFG
global
    maxconn $(( IDLE_CONNECTIONS + 100 ))
    stats socket $WORK/haproxy.sock mode 600 level user
defaults
    mode tcp
    maxconn $(( IDLE_CONNECTIONS + 100 ))
    timeout connect 5s
    timeout client 600s
    timeout server 600s
frontend mqtt
    bind 127.0.0.1:$HAPROXY_PORT
    tcp-request inspect-delay 5s
    tcp-request content accept if { req.payload(0,0),mqtt_is_valid }
    tcp-request content reject
    use_backend by_client_id if { req.payload(0,0),mqtt_field_value(connect,client_identifier) -m len gt 0 }
    default_backend by_source
backend by_client_id
    balance hash req.payload(0,0),mqtt_field_value(connect,client_identifier)
    hash-type consistent
    server node1 127.0.0.1:$NODE1 $PP_SERVER
    server node2 127.0.0.1:$NODE2 $PP_SERVER
backend by_source
    balance source
    hash-type consistent
    server node1 127.0.0.1:$NODE1 $PP_SERVER
    server node2 127.0.0.1:$NODE2 $PP_SERVER
CFG
haproxy -c -q -f "$WORK/haproxy.cfg"

# --- processes ----------------------------------------------------------------------------------------------
# (Re)starts both proxies, so each idle measurement starts from a fresh process.
start_proxies() {
    stop_proxies
    "$BIN/mqtt-proxy" serve --config "$WORK/config.yaml" --store "$WORK/apisix.yaml" >>"$WORK/mqtt-proxy.log" 2>&1 &
    PROXY_PID=$!
    haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    for _ in $(seq 100); do
        grep -q "ready:" "$WORK/mqtt-proxy.log" 2>/dev/null && break
        sleep 0.1
    done
    if ! grep -q "ready:" "$WORK/mqtt-proxy.log"; then
        echo "bench: mqtt-proxy did not start:" >&2; cat "$WORK/mqtt-proxy.log" >&2; exit 1
    fi
    sleep 0.3  # haproxy binds within milliseconds; a short grace instead of probing its port
    kill -0 "$HAPROXY_PID" || { echo "bench: haproxy did not start:" >&2; cat "$WORK/haproxy.log" >&2; exit 1; }
    : > "$WORK/mqtt-proxy.log"
}
target_of() {
    case "$1" in
        direct) echo "$NODES" ;;
        mqtt-proxy) echo "127.0.0.1:$PROXY_PORT" ;;
        haproxy) echo "127.0.0.1:$HAPROXY_PORT" ;;
    esac
}
pid_of() {
    case "$1" in
        mqtt-proxy) echo "--pid $PROXY_PID" ;;
        haproxy) echo "--pid $HAPROXY_PID" ;;
    esac
}
# Runs one scenario against one target with a hard time bound; the JSON line goes to results.jsonl.
# With --pid the result also has the proxy's CPU use (and, for idle, its RSS growth).
bench() {
    local scenario=$1 label=$2; shift 2
    # shellcheck disable=SC2046  # pid_of prints two words or none
    timeout 60 "$BIN/mqtt-bench" "$scenario" --target "$(target_of "$label")" --label "$label" $(pid_of "$label") "$@" \
        >>"$RESULTS" 2> >(sed 's/^/    /' >&2) || log "FAILED: $scenario against $label (exit $?)"
}
LABELS=(direct mqtt-proxy haproxy)
COMMON=(--duration "$SECONDS_PER_RUN" --warmup "$WARMUP")

log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), \
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(haproxy -v | head -1 | cut -d' ' -f1-3)"
log "nodes $NODES; mqtt-proxy 127.0.0.1:$PROXY_PORT; haproxy 127.0.0.1:$HAPROXY_PORT; open files $NOFILE"

if [ "$MOSQUITTO" = 1 ]; then
    # Realism check: two real brokers (one thread each) replace the test upstream; connect scenario only. No
    # --upstream: mqtt-bench runs only the clients, and the brokers' own CONNACKs are what is timed.
    for port in $NODE1 $NODE2; do
        printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections -1\nlog_dest none\n' \
            "$port" > "$WORK/mosquitto-$port.conf"
        mosquitto -c "$WORK/mosquitto-$port.conf" >"$WORK/mosquitto-$port.log" 2>&1 &
        PIDS+=($!)
    done
    start_proxies
    for run in $(seq "$RUNS"); do
        log "round $run/$RUNS (mosquitto upstream)"
        for label in "${LABELS[@]}"; do bench connect "$label" "${COMMON[@]}"; done
    done
else
    UPSTREAM=(--upstream "$NODES")
    for label in mqtt-proxy haproxy; do
        start_proxies
        log "idle: $IDLE_CONNECTIONS sessions through $label ($(pid_of "$label"))"
        bench idle "$label" "${UPSTREAM[@]}" --connections "$IDLE_CONNECTIONS" --hold 3
    done
    start_proxies
    for run in $(seq "$RUNS"); do
        for scenario in connect throughput latency; do
            log "round $run/$RUNS: $scenario"
            for label in "${LABELS[@]}"; do bench "$scenario" "$label" "${UPSTREAM[@]}" "${COMMON[@]}"; done
        done
    done
fi

# --- the table ----------------------------------------------------------------------------------------------
echo
UPSTREAM_KIND="in-process test upstream, 2 nodes"
[ "$PROXY_PROTOCOL" = 1 ] && UPSTREAM_KIND="$UPSTREAM_KIND; both proxies send PROXY v2 headers to it"
[ "$MOSQUITTO" = 1 ] && UPSTREAM_KIND="2 mosquitto brokers"
echo "mqtt-bench: $(nproc) cores, $RUNS interleaved rounds of ${SECONDS_PER_RUN} s (+${WARMUP} s warm-up) per run;" \
    "upstream: $UPSTREAM_KIND"
if [ "$MOSQUITTO" = 1 ]; then
    echo "connect: 32 parallel clients, MQTT 3.1.1"
else
    echo "connect: 32 parallel clients; throughput: 8 connections x 256-byte QoS 0 PUBLISH; latency: 16" \
        "connections x 100 msg/s echo round trips; idle: $IDLE_CONNECTIONS sessions (open-file limit $NOFILE)"
fi
"$BIN/mqtt-bench" report "$RESULTS"
echo
# Sanity check that both proxies really spread clients over the two nodes by client id (since the last start).
python3 - "$ADMIN_PORT" "$WORK/haproxy.sock" <<'PY' || true
import json, socket, sys, urllib.request
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/routes/stats",
                                 headers={"X-API-KEY": "bench-key-0123456789"})
nodes = json.load(urllib.request.urlopen(request, timeout=5))["nodes"]
print("connections per node: mqtt-proxy", ", ".join(f"{n['node']}={n['total']}" for n in nodes), end="; ")
unix = socket.socket(socket.AF_UNIX)
unix.connect(sys.argv[2])
unix.sendall(b"show stat\n")
csv = b"".join(iter(lambda: unix.recv(65536), b"")).decode().splitlines()
header = csv[0].lstrip("# ").split(",")
rows = [dict(zip(header, line.split(","))) for line in csv[1:] if line]
print("haproxy", ", ".join(f"{r['pxname']}/{r['svname']}={r['stot']}" for r in rows
                           if r["svname"] not in ("FRONTEND", "BACKEND")))
PY
log "done: $(( $(date +%s) - BUILT )) s of measurement, $(( BUILT - STARTED )) s of build"
