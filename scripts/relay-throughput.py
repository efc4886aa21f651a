#!/usr/bin/env python3
"""Rough relay throughput: a sink upstream that discards, C clients that send an MQTT CONNECT then stream
S-byte chunks through the proxy for T seconds. Optionally holds N extra idle MQTT connections open first.

Usage: relay-throughput.py --proxy-port P --sink-port Q [--connections C] [--seconds T] [--idle N]
                           [--tls-ca CA.pem [--sni NAME] [--cert C --key K]]
Start the proxy with a route to 127.0.0.1:Q first. A stop-gap until the Swift bench tool (issue 7)."""
import argparse
import asyncio
import resource
import ssl
import time


def connect_packet(client_id: str) -> bytes:
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    return bytes([0x10, len(body)]) + body


async def sink(reader, writer, stats):
    try:
        while True:
            data = await reader.read(1 << 20)
            if not data:
                break
            stats["received"] += len(data)
    except ConnectionError:
        pass
    writer.close()


async def blaster(port, wid, deadline, chunk, ctx, sni):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=sni if ctx else None)
    writer.write(connect_packet(f"blast-{wid}"))
    while time.monotonic() < deadline:
        writer.write(chunk)
        await writer.drain()
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy-port", type=int, required=True)
    ap.add_argument("--sink-port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--chunk", type=int, default=64 * 1024)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--tls-ca", help="speak TLS to the proxy, trusting this CA file")
    ap.add_argument("--sni", help="server name to send (and verify)")
    ap.add_argument("--cert", help="client certificate (mTLS)")
    ap.add_argument("--key", help="client key (mTLS)")
    a = ap.parse_args()
    ctx = None
    if a.tls_ca:
        ctx = ssl.create_default_context(cafile=a.tls_ca)
        ctx.check_hostname = a.sni is not None
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stats = {"received": 0}
    server = await asyncio.start_server(lambda r, w: sink(r, w, stats), "127.0.0.1", a.sink_port)
    idle = []
    for i in range(a.idle):
        r, w = await asyncio.open_connection("127.0.0.1", a.proxy_port, ssl=ctx,
                                             server_hostname=a.sni if ctx else None)
        w.write(connect_packet(f"idle-{i:05d}"))
        idle.append(w)
    if a.idle:
        await asyncio.sleep(1)
    chunk = b"\x30" * a.chunk
    start = time.monotonic()
    await asyncio.gather(*(blaster(a.proxy_port, i, start + a.seconds, chunk, ctx, a.sni) for i in range(a.connections)))
    elapsed = time.monotonic() - start
    await asyncio.sleep(0.2)
    print(f"{stats['received'] / elapsed / 1e6:.1f} MB/s relayed{' over TLS' if ctx else ''} ({a.connections} streams, {a.idle} idle "
          f"connections held, {elapsed:.1f} s)")
    for w in idle:
        w.close()
    server.close()


asyncio.run(main())
