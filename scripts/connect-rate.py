#!/usr/bin/env python3
"""Rough CONNECT->CONNACK rate: P parallel clients connect, send CONNECT, wait for CONNACK, send
DISCONNECT and close, for a fixed time. Usage: connect-rate.py HOST PORT [--parallel P] [--seconds S]

A quick baseline until the Swift bench tool exists; the Python client itself may be the bottleneck, so
compare runs made with this same script only."""
import argparse
import asyncio
import time


def connect_packet(client_id: str) -> bytes:
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    return bytes([0x10, len(body)]) + body


async def worker(host, port, wid, deadline, stats):
    n = 0
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
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
    a = ap.parse_args()
    stats = {"ok": 0, "bad": 0, "errors": 0}
    start = time.monotonic()
    deadline = start + a.seconds
    await asyncio.gather(*(worker(a.host, a.port, i, deadline, stats) for i in range(a.parallel)))
    elapsed = time.monotonic() - start
    print(f"{stats['ok'] / elapsed:.0f} CONNECT->CONNACK/s ({stats['ok']} ok, {stats['bad']} refused, "
          f"{stats['errors']} errors, {a.parallel} parallel, {elapsed:.1f} s)")


asyncio.run(main())
