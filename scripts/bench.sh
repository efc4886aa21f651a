#!/usr/bin/env bash
# mqtt-proxy against HAProxy 2.6 and against no proxy at all ("direct"), same workloads, one machine, one run.
#
# Usage: scripts/bench.sh [--runs N] [--seconds S] [--held N] [--mosquitto] [--proxy-protocol] [--keep]
#   --runs N      rounds of the interleaved runs (default 3; each round runs every target in turn)
#   --seconds S   measured seconds per run, after a 1 s warm-up (default 4)
#   --held N      sessions held open for the held-sessions run (default 9000, less if the open-file limit is lower)
#   --mosquitto   realism check: two real mosquitto brokers as the upstream, connect scenario only
#   --proxy-protocol  both proxies send a PROXY v2 header to the brokers (mqtt-proxy: upstream proxy_protocol v2;
#                 HAProxy: send-proxy-v2); the test upstreams read it (mosquitto 2.0 cannot: not with --mosquitto)
#   --keep        keep the work folder (configs, logs, results.jsonl) and print its path
#
# Targets: direct; mqtt-proxy with the shipped defaults (log_level info: two log lines per connection);
# mqtt-proxy tuned (log_level notice, reuseport listener); HAProxy (`balance hash` on the client id). Each proxy
# has the same two upstream nodes on free loopback ports, chash on the MQTT client id.
#
# What it does: release builds of mqtt-proxy, mqtt-bench and mqtt-loadgen; raises `ulimit -n` to the hard limit;
# installs haproxy with apt-get if missing; then
#   1. held:  for each target, freshly started: N sessions opened and held, the proxy's RSS growth per session
#             from /proc, then the connect scenario while they are held;
#   2. rounds: connect (mqtt-loadgen, C: clients in one process, CONNACK sinks in another, so the load
#             generator's own CPU is small and reported), throughput and latency (mqtt-bench with its
#             in-process upstream), each against every target in turn;
#   3. prints the table of medians with the ratios against HAProxy and against direct.
# The connect runs report the proxy's CPU time per connection and its context switches (all threads) from
# /proc over the measured window. Everything binds 127.0.0.0/8 only, every process started here is stopped
# by PID on exit, and the whole run takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
SECONDS_PER_RUN=4
WARMUP=1
MOSQUITTO=0
PROXY_PROTOCOL=0
KEEP=0
HELD=9000
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        --held) HELD=$2; shift 2 ;;
        --mosquitto) MOSQUITTO=1; shift ;;
        --proxy-protocol) PROXY_PROTOCOL=1; shift ;;
        --keep) KEEP=1; shift ;;
        *) echo "usage: $0 [--runs N] [--seconds S] [--held N] [--mosquitto] [--proxy-protocol] [--keep]" >&2; exit 2 ;;
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

# A scratch path of our own, so this never waits on (or invalidates) another build folder. BENCH_BIN=folder
# skips the build and measures the binaries there (A/B runs of two commits with one script).
SCRATCH=${BENCH_SCRATCH:-.build-bench}
if [ -n "${BENCH_BIN:-}" ]; then
    BIN=$BENCH_BIN
    log "binaries from $BIN (no build)"
else
    log "release build (scratch path $SCRATCH)"
    for product in mqtt-proxy mqtt-bench mqtt-loadgen; do
        # A failed build must stop the run: an old binary left in the folder would be measured instead.
        if ! swift build -c release --scratch-path "$SCRATCH" --product "$product" > "/tmp/bench-build-$$.log" 2>&1; then
            grep -E "error" "/tmp/bench-build-$$.log" >&2; rm -f "/tmp/bench-build-$$.log"
            echo "bench: release build of $product failed" >&2; exit 1
        fi
    done
    rm -f "/tmp/bench-build-$$.log"
    BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)
fi
[ -x "$BIN/mqtt-proxy" ] && [ -x "$BIN/mqtt-bench" ] && [ -x "$BIN/mqtt-loadgen" ] || { echo "bench: build failed" >&2; exit 1; }
BUILT=$(date +%s)

# Every process here inherits the raised limit. It bounds the held run: a proxy holds two descriptors per
# session (client + upstream); the load generator and the sinks one each.
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
MAX_HELD=$(( (NOFILE - 1200) / 2 ))
[ "$HELD" -gt "$MAX_HELD" ] && HELD=$MAX_HELD

# --- work folder, ports, cleanup ----------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/mqtt-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
PIDS=()          # long-lived helpers (mosquitto)
PROXY_PID=""; TUNED_PID=""; HAPROXY_PID=""; SINK_PID=""
stop_pid() { [ -n "$1" ] && { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; return 0; }
stop_proxies() {
    for pid in $PROXY_PID $TUNED_PID $HAPROXY_PID; do stop_pid "$pid"; done
    PROXY_PID=""; TUNED_PID=""; HAPROXY_PID=""
}
stop_sink() { stop_pid "$SINK_PID"; SINK_PID=""; }
cleanup() {
    stop_proxies
    stop_sink
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$KEEP" = 1 ]; then echo "bench: work folder kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NODE1=$(free_port); NODE2=$(free_port); PROXY_PORT=$(free_port); TUNED_PORT=$(free_port); HAPROXY_PORT=$(free_port)
ADMIN_PORT=$(free_port); TUNED_ADMIN_PORT=$(free_port)
NODES="127.0.0.1:$NODE1,127.0.0.1:$NODE2"

# --- configs ------------------------------------------------------------------------------------------------
# mqtt-proxy, shipped defaults: one loopback listener and the admin API, nothing else set (log_level info).
# Tuned: log_level notice (no line per connection; the ready line still shows) and a reuseport listener (one
# accepting socket per event loop; BENCH_TUNED_LISTENER overrides the listener's extra keys, e.g. empty for a build
# without reuseport).
write_proxy_config() {  # file, port, admin port, extra listener keys, extra mqtt_proxy keys
    cat > "$1" <<YAML
apisix:
  proxy_mode: stream
  stream_proxy:
    tcp:
      - {addr: "127.0.0.1:$2"$4}
deployment:
  admin:
    admin_key: [{name: admin, key: bench-key-0123456789, role: admin}]
    admin_listen: {ip: 127.0.0.1, port: $3}
$5
YAML
}
write_proxy_config "$WORK/config.yaml" "$PROXY_PORT" "$ADMIN_PORT" "" ""
TUNED_LISTENER=${BENCH_TUNED_LISTENER-, reuseport: true}
write_proxy_config "$WORK/config-tuned.yaml" "$TUNED_PORT" "$TUNED_ADMIN_PORT" "$TUNED_LISTENER" \
    "mqtt_proxy: {log_level: notice}"
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
    maxconn $(( HELD + 200 ))
    stats socket $WORK/haproxy.sock mode 600 level user
defaults
    mode tcp
    maxconn $(( HELD + 200 ))
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
wait_ready() {  # log file, label
    for _ in $(seq 100); do
        grep -q "ready:" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench: $2 did not start:" >&2; cat "$1" >&2; exit 1
}
# (Re)starts the three proxies, so each held run starts from fresh processes.
start_proxies() {
    stop_proxies
    "$BIN/mqtt-proxy" serve --config "$WORK/config.yaml" --store "$WORK/apisix.yaml" >"$WORK/mqtt-proxy.log" 2>&1 &
    PROXY_PID=$!
    "$BIN/mqtt-proxy" serve --config "$WORK/config-tuned.yaml" --store "$WORK/apisix.yaml" \
        >"$WORK/mqtt-proxy-tuned.log" 2>&1 &
    TUNED_PID=$!
    haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    wait_ready "$WORK/mqtt-proxy.log" mqtt-proxy
    wait_ready "$WORK/mqtt-proxy-tuned.log" "mqtt-proxy (tuned)"
    sleep 0.3  # haproxy binds within milliseconds; a short grace instead of probing its port
    kill -0 "$HAPROXY_PID" || { echo "bench: haproxy did not start:" >&2; cat "$WORK/haproxy.log" >&2; exit 1; }
}
# The CONNACK sinks of the connect runs (the brokers' ports, so they are stopped while mqtt-bench's in-process
# upstream serves the throughput and latency runs).
start_sink() {
    [ -n "$SINK_PID" ] && return 0
    "$BIN/mqtt-loadgen" sink --listen "$NODES" >>"$WORK/sink.log" 2>&1 &
    SINK_PID=$!
    for _ in $(seq 50); do grep -q listening "$WORK/sink.log" 2>/dev/null && return 0; sleep 0.1; done
    echo "bench: mqtt-loadgen sink did not start" >&2; exit 1
}
target_of() {
    case "$1" in
        direct) echo "$NODES" ;;
        mqtt-proxy) echo "127.0.0.1:$PROXY_PORT" ;;
        mqtt-proxy-tuned) echo "127.0.0.1:$TUNED_PORT" ;;
        haproxy) echo "127.0.0.1:$HAPROXY_PORT" ;;
    esac
}
pid_of() {
    case "$1" in
        direct) echo "$SINK_PID" ;;
        mqtt-proxy) echo "$PROXY_PID" ;;
        mqtt-proxy-tuned) echo "$TUNED_PID" ;;
        haproxy) echo "$HAPROXY_PID" ;;
    esac
}
run_json() {  # description, command…: one JSON line to results.jsonl, with a hard time bound
    local what=$1; shift
    timeout 120 "$@" >>"$RESULTS" 2> >(sed 's/^/    /' >&2) || log "FAILED: $what (exit $?)"
}
# mqtt-bench scenarios (throughput, latency) against one target; the result has the proxy's CPU use.
bench() {
    local scenario=$1 label=$2; shift 2
    local pid; pid=$(pid_of "$label")
    [ "$label" = direct ] && pid=""
    # shellcheck disable=SC2046  # the --pid option is two words or none
    run_json "$scenario against $label" "$BIN/mqtt-bench" "$scenario" --target "$(target_of "$label")" \
        --label "$label" $([ -n "$pid" ] && echo "--pid $pid") "$@"
}
# mqtt-loadgen's connect scenario (2 client threads, 32 connections in flight); for direct, --pid is the sink's.
loadgen() {
    local label=$1; shift
    run_json "connect against $label" "$BIN/mqtt-loadgen" connect --target "$(target_of "$label")" --label "$label" \
        --pid "$(pid_of "$label")" --threads 2 --concurrency 32 "$@"
}
LABELS=(direct mqtt-proxy mqtt-proxy-tuned haproxy)
COMMON=(--duration "$SECONDS_PER_RUN" --warmup "$WARMUP")

log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), \
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(haproxy -v | head -1 | cut -d' ' -f1-3)"
log "nodes $NODES; mqtt-proxy 127.0.0.1:$PROXY_PORT (tuned :$TUNED_PORT); haproxy 127.0.0.1:$HAPROXY_PORT; open files $NOFILE"

if [ "$MOSQUITTO" = 1 ]; then
    # Realism check: two real brokers (one thread each) replace the sinks; connect scenario only.
    for port in $NODE1 $NODE2; do
        printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections -1\nlog_dest none\n' \
            "$port" > "$WORK/mosquitto-$port.conf"
        mosquitto -c "$WORK/mosquitto-$port.conf" >"$WORK/mosquitto-$port.log" 2>&1 &
        PIDS+=($!)
    done
    SINK_PID=${PIDS[0]}  # direct's CPU is one broker's (for the record only)
    start_proxies
    for run in $(seq "$RUNS"); do
        log "round $run/$RUNS (mosquitto upstream)"
        for label in "${LABELS[@]}"; do loadgen "$label" "${COMMON[@]}"; done
    done
else
    for label in "${LABELS[@]}"; do
        start_proxies
        start_sink
        log "held: $HELD sessions through $label (pid $(pid_of "$label")), then connect while held"
        loadgen "$label" --hold "$HELD" "${COMMON[@]}"
        stop_sink
    done
    start_proxies
    for run in $(seq "$RUNS"); do
        log "round $run/$RUNS: connect"
        start_sink
        for label in "${LABELS[@]}"; do loadgen "$label" "${COMMON[@]}"; done
        stop_sink
        for scenario in throughput latency; do
            log "round $run/$RUNS: $scenario"
            for label in "${LABELS[@]}"; do bench "$scenario" "$label" --upstream "$NODES" "${COMMON[@]}"; done
        done
    done
fi

# --- the table ----------------------------------------------------------------------------------------------
echo
UPSTREAM_KIND="mqtt-loadgen sinks (connect, held) and mqtt-bench's in-process upstream (throughput, latency), 2 nodes"
[ "$PROXY_PROTOCOL" = 1 ] && UPSTREAM_KIND="$UPSTREAM_KIND; both proxies send PROXY v2 headers to them"
[ "$MOSQUITTO" = 1 ] && UPSTREAM_KIND="2 mosquitto brokers"
echo "bench.sh: $(nproc) cores, $RUNS interleaved rounds of ${SECONDS_PER_RUN} s (+${WARMUP} s warm-up) per run;" \
    "upstream: $UPSTREAM_KIND"
echo "mqtt-proxy: shipped defaults (log_level info); mqtt-proxy-tuned: log_level notice, reuseport listener"
if [ "$MOSQUITTO" = 1 ]; then
    echo "connect: mqtt-loadgen, 2 threads, 32 connections in flight, MQTT 3.1.1"
else
    echo "connect: mqtt-loadgen, 2 threads, 32 connections in flight; held: $HELD sessions (open-file limit $NOFILE);" \
        "throughput: 8 connections x 256-byte QoS 0 PUBLISH; latency: 16 connections x 100 msg/s echo round trips"
fi
"$BIN/mqtt-bench" report "$RESULTS" --labels "$(IFS=,; echo "${LABELS[*]}")" --subject mqtt-proxy,mqtt-proxy-tuned
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
