"""Idle room sockets against one daphne process: server memory per connection and connect time.

Identities and rooms come from GET / and POST /api/chat/start first (so the HTTP phase's
own memory growth is not counted); then every person opens their room socket, and the
server's resident memory before and after gives the cost of one idle connection.
"""

import argparse
import asyncio
import time

from bench import harness
from bench.harness import emit, ms, note, percentile
from bench.load import gather_limited, matched_pairs, open_socket


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench connections")
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--settle-seconds", type=float, default=3, help="wait before reading memory")
    args = parser.parse_args(argv)
    asyncio.run(_measure(args))


async def _measure(args) -> None:
    harness.empty_chat_tables()
    server = harness.daphne("whimsy_project.asgi:application")
    try:
        note(f"connections: creating {args.connections} visitors in {args.connections // 2} rooms")
        people = [p for pair in await matched_pairs(server.port, args.connections // 2) for p in pair]
        await asyncio.sleep(1)
        rss_before = server.rss_bytes()
        note(f"connections: opening {len(people)} room sockets")
        started = time.monotonic()
        opened = await gather_limited(
            (_try_open(f"{server.ws_base}/ws/chat/{p.room_id}/", server.origin, p.cookie) for p in people), limit=100
        )
        elapsed = time.monotonic() - started
        sockets = [ws for ws, frame, _ in opened if ws is not None and frame.get("type") == "room_state"]
        connect_times = [seconds for ws, _, seconds in opened if ws is not None]
        await asyncio.sleep(args.settle_seconds)
        rss_after = server.rss_bytes()
        count = len(sockets)
        emit("connections", "connected", count, server="whimsy", target=len(people))
        emit("connections", "failed", len(people) - count, server="whimsy")
        emit("connections", "connect_p50_ms", ms(percentile(connect_times, 0.5)), server="whimsy")
        emit("connections", "connect_p99_ms", ms(percentile(connect_times, 0.99)), server="whimsy")
        emit("connections", "connects_per_s", round(count / elapsed, 1), server="whimsy")
        emit("connections", "server_rss_mb", round(rss_after / 2**20, 1), server="whimsy")
        emit(
            "connections", "server_kb_per_connection",
            round((rss_after - rss_before) / max(count, 1) / 1024, 1), server="whimsy", target="< 50",
        )  # fmt: skip
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    finally:
        server.stop()


async def _try_open(url: str, origin: str, cookie: str):
    try:
        return await open_socket(url, origin=origin, cookie=cookie)
    except Exception as exc:  # counted as a failed connection
        note(f"connect failed: {exc!r}")
        return None, {}, 0.0
