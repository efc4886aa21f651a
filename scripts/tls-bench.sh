#!/usr/bin/env bash
# Plaintext vs TLS through mqtt-proxy, measured in one run: CONNECT->CONNACK/s (a full TLS handshake per
# connection, with and without a client certificate) against a real mosquitto broker, and bulk relay MB/s.
# Release build; certificates made with the openssl CLI; everything on loopback, stopped by PID at the end.
# Usage: scripts/tls-bench.sh [SECONDS_PER_RUN] (default 5). Needs mosquitto, openssl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-5}
for tool in mosquitto openssl python3 bc; do
    command -v "$tool" >/dev/null || { echo "tls-bench: $tool is missing (apt-get install mosquitto openssl)" >&2; exit 1; }
done
swift build -c release --product mqtt-proxy >/dev/null
BIN=$(swift build -c release --show-bin-path)/mqtt-proxy
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A CA, a server certificate for bench.local and a client certificate, all P-256.
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
    -keyout ca.key -out ca.crt 2>/dev/null
for name in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name.bench.local" \
        -keyout $name.key -out $name.csr 2>/dev/null
    printf 'subjectAltName=DNS:%s.bench.local\nbasicConstraints=CA:FALSE\n' "$name" > $name.ext
    openssl x509 -req -in $name.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile $name.ext \
        -out $name.crt 2>/dev/null
done
cd - >/dev/null

BROKER=$(free_port); PLAIN=$(free_port); TLS=$(free_port); MTLS=$(free_port)
RELAY_PLAIN=$(free_port); RELAY_TLS=$(free_port); SINK=$(free_port); ADMIN=$(free_port)
mosquitto -p "$BROKER" >"$WORK/mosquitto.log" 2>&1 &
PIDS+=($!)
indent() { sed 's/^/        /' "$1"; }
cat > "$WORK/config.yaml" <<YAML
apisix:
  stream_proxy:
    tcp:
      - "127.0.0.1:$PLAIN"
      - {addr: "127.0.0.1:$TLS", tls: true}
      - {addr: "127.0.0.1:$MTLS", tls: true}
      - "127.0.0.1:$RELAY_PLAIN"
      - {addr: "127.0.0.1:$RELAY_TLS", tls: true}
deployment:
  admin:
    admin_key: [{name: admin, key: bench-key-0123456789, role: admin}]
    admin_listen: {ip: 127.0.0.1, port: $ADMIN}
mqtt_proxy:
  log_level: notice               # no per-connection lines
YAML
{
    echo "ssls:"
    echo "  - id: server"
    echo "    snis: [server.bench.local]"
    echo "    cert: |"; indent "$WORK/server.crt"
    echo "    key: |"; indent "$WORK/server.key"
    echo "stream_routes:"
    for port in $PLAIN $TLS; do
        echo "  - {id: c$port, server_port: $port, plugins: {mqtt-proxy: {protocol_level: 4}},"
        echo "     upstream: {type: chash, key: mqtt_client_id, nodes: {\"127.0.0.1:$BROKER\": 1}}}"
    done
    for port in $RELAY_PLAIN $RELAY_TLS; do
        echo "  - {id: r$port, server_port: $port, plugins: {mqtt-proxy: {protocol_level: 4}},"
        echo "     upstream: {nodes: {\"127.0.0.1:$SINK\": 1}}}"
    done
    echo "upstreams: []"
    echo "#END"
} > "$WORK/apisix.yaml"
# The mTLS port uses a second ssl object with client.ca: same certificate, its own SNI.
python3 - "$WORK" "$MTLS" "$BROKER" <<'PY'
import sys, json
work, port, broker = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(f"{work}/apisix.yaml").read()
ca = open(f"{work}/ca.crt").read()
cert = open(f"{work}/client.crt").read()
# Reuse the client certificate as the server certificate of the mTLS SNI (its SAN is client.bench.local).
key = open(f"{work}/client.key").read()
obj = {"id": "mtls", "snis": ["client.bench.local"], "cert": cert, "key": key, "client": {"ca": ca, "depth": 1}}
route = {"id": f"m{port}", "server_port": int(port), "plugins": {"mqtt-proxy": {"protocol_level": 4}},
         "upstream": {"type": "chash", "key": "mqtt_client_id", "nodes": {f"127.0.0.1:{broker}": 1}}}
text = text.replace("ssls:\n", "ssls:\n  - " + json.dumps(obj) + "\n", 1)
text = text.replace("stream_routes:\n", "stream_routes:\n  - " + json.dumps(route) + "\n", 1)
open(f"{work}/apisix.yaml", "w").write(text)
PY
"$BIN" check --config "$WORK/config.yaml" >/dev/null
"$BIN" serve --config "$WORK/config.yaml" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
SERVE_PID=$!
for _ in $(seq 100); do grep -q "ready:" "$WORK/serve.log" && break; sleep 0.1; done
grep -q "ready:" "$WORK/serve.log" || { cat "$WORK/serve.log"; exit 1; }

# Each run prints its rate and the proxy's CPU use during it (cores busy), read from /proc.
TICKS=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$SERVE_PID/stat"; }
measure() {
    local before after start end out
    before=$(cpu); start=$(date +%s.%N)
    out=$("$@" | awk '{print $1}')
    after=$(cpu); end=$(date +%s.%N)
    printf '%s(%.2f)' "$out" "$(echo "($after - $before) / $TICKS / ($end - $start)" | bc -l)"
}
rate() { measure python3 scripts/connect-rate.py 127.0.0.1 "$@" --seconds "$SECONDS_PER_RUN"; }
relay() { measure python3 scripts/relay-throughput.py --sink-port "$SINK" --seconds "$SECONDS_PER_RUN" "$@"; }
echo "mqtt-proxy plaintext vs TLS on $(nproc) cores, $SECONDS_PER_RUN s per run, runs interleaved;"
echo "each run: rate(cores the proxy kept busy). The Python clients share the same cores."
printf '%-44s %s\n' "measure" "runs"
P=(); T=(); M=(); RP=(); RT=()
for run in 1 2 3; do
    P+=("$(rate "$PLAIN")")
    T+=("$(rate "$TLS" --tls-ca "$WORK/ca.crt" --sni server.bench.local)")
    M+=("$(rate "$MTLS" --tls-ca "$WORK/ca.crt" --sni client.bench.local --cert "$WORK/client.crt" --key "$WORK/client.key")")
done
for run in 1 2; do
    RP+=("$(relay --proxy-port "$RELAY_PLAIN")")
    RT+=("$(relay --proxy-port "$RELAY_TLS" --tls-ca "$WORK/ca.crt" --sni server.bench.local)")
done
printf '%-44s %s\n' "CONNECT->CONNACK/s plaintext" "${P[*]}"
printf '%-44s %s\n' "handshake+CONNECT->CONNACK/s TLS 1.3" "${T[*]}"
printf '%-44s %s\n' "handshake+CONNECT->CONNACK/s TLS 1.3 + mTLS" "${M[*]}"
printf '%-44s %s\n' "relay MB/s plaintext (4 streams)" "${RP[*]}"
printf '%-44s %s\n' "relay MB/s TLS 1.3 (4 streams)" "${RT[*]}"
echo "proxy RSS after the runs: $(awk '/VmRSS/ {print $2, $3}' "/proc/$SERVE_PID/status")"
