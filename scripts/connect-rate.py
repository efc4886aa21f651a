#!/usr/bin/env python3
"""Rough CONNECT->CONNACK rate: P parallel clients connect, send CONNECT, wait for CONNACK, send
DISCONNECT and close, for a fixed time.
Usage: connect-rate.py HOST PORT [--parallel P] [--seconds S] [--tls-ca CA.pem [--sni NAME] [--cert C --key K]]
With --tls-ca every connection does a full TLS handshake (no session resumption), so the rate is handshakes/s.

A quick baseline until the Swift bench tool exists; the Python client itself may be the bottleneck, so
compare runs made with this same script only."""
import argparse
import asyncio
import ssl
import time


def connect_packet(client_id: str) -> bytes:
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    return bytes([0x10, len(body)]) + body


def tls_context(a):
    if not a.tls_ca:
        return None
    ctx = ssl.create_default_context(cafile=a.tls_ca)
    ctx.check_hostname = a.sni is not None
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    return ctx


async def worker(host, port, wid, deadline, stats, ctx, sni):
    n = 0
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=sni if ctx else None)
            writer.write(connect_packet(f"bench-{wid}-{n}"))
            ack = await asyncio.wait_for(reader.readexactly(4), 5)
            if ack[0] != 0x20 or ack[3] != 0:
                stats["bad"] += 1
            writer.write(b"\xe0\x00")
            writer.close()
            await writer.wait_closed()
            stats["ok"] += 1
        except Exception:
            stats["errors"] += 1
        n += 1


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--parallel", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--tls-ca", help="speak TLS, trusting this CA file")
    ap.add_argument("--sni", help="server name to send (and verify)")
    ap.add_argument("--cert", help="client certificate (mTLS)")
    ap.add_argument("--key", help="client key (mTLS)")
    a = ap.parse_args()
    ctx = tls_context(a)
    stats = {"ok": 0, "bad": 0, "errors": 0}
    start = time.monotonic()
    deadline = start + a.seconds
    await asyncio.gather(*(worker(a.host, a.port, i, deadline, stats, ctx, a.sni) for i in range(a.parallel)))
    elapsed = time.monotonic() - start
    label = "TLS handshake+CONNECT->CONNACK/s" if ctx else "CONNECT->CONNACK/s"
    print(f"{stats['ok'] / elapsed:.0f} {label} ({stats['ok']} ok, {stats['bad']} refused, "
          f"{stats['errors']} errors, {a.parallel} parallel, {elapsed:.1f} s)")


asyncio.run(main())
