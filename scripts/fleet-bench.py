#!/usr/bin/env python3
"""Two mqtt-proxy instances on one etcd: how fast a change made through one reaches the other, how long an
instance takes to load 1,000 stream routes, and what etcd itself spends meanwhile.

Usage: scripts/fleet-bench.py BINARY [--changes 100] [--routes 1000]

Everything runs on 127.0.0.1 with free ports and a temporary folder; every process started here is stopped by its
PID at the end. Needs etcd and etcdctl (apt-get install etcd-server etcd-client).
"""
import argparse, base64, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

KEY = "edd1c9f034335f136f87ad84b625c8f1"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http(method, url, body=None, key=KEY):
    req = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                                 headers={"X-API-KEY": key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(predicate, timeout=30, every=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise SystemExit("timed out")


class Instance:
    def __init__(self, binary, folder, name, etcd):
        self.config = os.path.join(folder, f"{name}.yaml")
        self.log = os.path.join(folder, f"{name}.log")
        open(self.config, "w").write(f"""apisix:
  stream_proxy:
    tcp: ["127.0.0.1:0"]
deployment:
  role: traditional
  role_traditional: {{config_provider: etcd}}
  etcd: {{host: ["{etcd}"], prefix: /apisix, timeout: 5}}
  admin:
    admin_key: [{{name: admin, key: {KEY}, role: admin}}]
    admin_listen: {{ip: 127.0.0.1, port: 0}}
mqtt_proxy:
  etcd_cache: cache-{name}.json
  instance_id: bench-{name}
  log_level: notice
""")
        self.started = time.time()
        self.proc = subprocess.Popen([binary, "serve", "--config", self.config], stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT)
        text = wait_for(lambda: (lambda t: t if "admin API on" in t and "ready: stream listeners" in t else None)(
            open(self.log).read()))
        self.ready_after = time.time() - self.started
        self.admin = "http://" + text.split("admin API on ")[1].split()[0]

    def store(self):
        return json.loads(http("GET", self.admin + "/v1/store")[1])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--routes", type=int, default=1000)
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="fleet-bench-")
    client, peer = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{client}"
    etcd = subprocess.Popen(["etcd", "--name", "bench", "--data-dir", os.path.join(folder, "etcd"),
                             "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-cluster", f"bench=http://127.0.0.1:{peer}", "--log-level", "error",
                             "--logger", "zap"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    instances = []
    try:
        wait_for(lambda: subprocess.run(["etcdctl", "--endpoints", endpoint, "endpoint", "health"],
                                        capture_output=True).returncode == 0)
        etcd_cpu0 = cpu_seconds(etcd.pid)
        a = Instance(args.binary, folder, "a", endpoint)
        b = Instance(args.binary, folder, "b", endpoint)
        instances += [a, b]
        # 1. Propagation: a PUT through A until B's store is at (or past) the write's revision.
        delays = []
        for i in range(args.changes):
            body = json.dumps({"plugins": {"mqtt-proxy": {"protocol_level": 4}},
                               "upstream": {"type": "chash", "key": "mqtt_client_id",
                                            "nodes": {"127.0.0.1:1883": 1, f"127.0.0.2:{1000 + i}": 1}}})
            t0 = time.time()
            status, text = http("PUT", a.admin + "/apisix/admin/stream_routes/bench", body)
            assert status in (200, 201), text
            revision = json.loads(http("GET", a.admin + "/apisix/admin/stream_routes/bench")[1])["modifiedIndex"]
            wait_for(lambda: (b.store().get("source_revision") or 0) >= revision, every=0.001)
            delays.append((time.time() - t0) * 1000)
        delays.sort()
        p50 = statistics.median(delays)
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        # 2. Load time with many routes: written in batches of 100 through etcd's gateway, then a third instance.
        for start in range(0, args.routes, 100):
            ops = []
            for i in range(start, min(start + 100, args.routes)):
                value = json.dumps({"id": f"r{i}", "server_port": 20000 + i % 1000,
                                    "plugins": {"mqtt-proxy": {"protocol_level": 4}},
                                    "upstream": {"nodes": {f"127.0.0.{i % 200 + 1}:1883": 1}}})
                ops.append({"request_put": {"key": base64.b64encode(f"/apisix/stream_routes/r{i}".encode()).decode(),
                                            "value": base64.b64encode(value.encode()).decode()}})
            req = urllib.request.Request(endpoint + "/v3/kv/txn", data=json.dumps({"success": ops}).encode(),
                                         method="POST")
            urllib.request.urlopen(req, timeout=10).read()
        c = Instance(args.binary, folder, "c", endpoint)
        instances.append(c)
        loaded = wait_for(lambda: int(json.loads(http("GET", c.admin + "/apisix/admin/stream_routes")[1])["total"])
                          >= args.routes)
        print(f"propagation A -> B over {args.changes} changes: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
              f"max {delays[-1]:.1f} ms")
        print(f"start with {args.routes} stream routes in etcd: ready (listening, routes applied) after "
              f"{c.ready_after:.2f} s")
        print(f"etcd CPU over the run: {cpu_seconds(etcd.pid) - etcd_cpu0:.2f} s "
              f"(wall {time.time() - a.started:.1f} s)")
    finally:
        for instance in instances:
            instance.stop()
        etcd.terminate()
        try:
            etcd.wait(10)
        except subprocess.TimeoutExpired:
            etcd.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
