"""The online count under churn: frames pushed per watching client per second, and server CPU.

Watchers: visitors (each with a session from GET /) holding a presence socket open.
Churn: other visitors opening a presence socket and closing it a second later, at a fixed
rate, so the count keeps changing. The design pushes at most about one frame a second to
each watcher, whatever the churn: cost grows with N, not N squared.
"""

import argparse
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

from bench import harness
from bench.harness import emit, note
from bench.load import gather_limited, open_socket, visit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench presence")
    parser.add_argument("--watchers", type=int, default=2000)
    parser.add_argument("--churn", type=float, default=200, help="joins (and as many leaves) per second")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args(argv)
    asyncio.run(_measure(args))


async def _measure(args) -> None:
    _forget_earlier_visitors()
    server = harness.daphne("whimsy_project.asgi:application")
    try:
        churners = max(1, int(args.churn * 2))  # each stays about a second, so twice the rate covers it
        note(f"presence: {args.watchers} watchers, {churners} churning visitors")
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(8) as pool:
            people = await asyncio.gather(
                *(loop.run_in_executor(pool, visit, server.port) for _ in range(args.watchers + churners))
            )
        watchers, churning = people[: args.watchers], people[args.watchers :]
        url = f"{server.ws_base}/ws/presence/"
        opened = await gather_limited(
            (open_socket(url, origin=server.origin, cookie=p.cookie) for p in watchers), limit=100
        )
        sockets = [ws for ws, _, _ in opened]
        frames = [0] * len(sockets)
        last_online = [0] * len(sockets)
        counting = {"on": False}

        async def watch(index, ws):
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "presence":
                    last_online[index] = frame["online"]
                    if counting["on"]:
                        frames[index] += 1

        readers = [asyncio.create_task(watch(i, ws)) for i, ws in enumerate(sockets)]
        await asyncio.sleep(2)  # let the connect storm's pushes pass
        counting["on"] = True
        cpu_before, started = server.cpu_seconds(), time.monotonic()
        joins = await _churn(url, server.origin, churning, rate=args.churn, seconds=args.seconds)
        elapsed = time.monotonic() - started
        cpu = server.cpu_seconds() - cpu_before
        counting["on"] = False
        await asyncio.sleep(2)  # the count settles back to the watchers alone
        per_client = sum(frames) / len(sockets) / elapsed
        emit("presence", "watchers", len(sockets), server="whimsy")
        emit("presence", "joins_per_s", round(joins / elapsed, 1), server="whimsy")
        emit("presence", "frames_per_s_per_client", round(per_client, 2), server="whimsy", target="<= ~1")
        emit("presence", "max_frames_per_client", max(frames), server="whimsy", seconds=round(elapsed, 1))
        emit("presence", "server_cpu_percent", round(100 * cpu / elapsed, 1), server="whimsy")
        emit("presence", "online_after", max(last_online), server="whimsy", expected=len(sockets))
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    finally:
        server.stop()


async def _churn(url: str, origin: str, people: list, *, rate: float, seconds: float) -> int:
    """Open a presence socket for the next free visitor every 1/rate s; each closes after a second."""
    free = asyncio.Queue()
    for person in people:
        free.put_nowait(person)
    joins = 0
    tasks = set()

    async def visit_briefly(person):
        try:
            ws, _, _ = await open_socket(url, origin=origin, cookie=person.cookie)
            await asyncio.sleep(1)
            await ws.close()
        except Exception as exc:  # shows as fewer joins per second
            note(f"churn socket failed: {exc!r}")
        finally:
            free.put_nowait(person)

    deadline = time.monotonic() + seconds
    due = time.monotonic()
    while due < deadline:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        person = await free.get()
        task = asyncio.create_task(visit_briefly(person))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        joins += 1
        due += 1 / rate
    await asyncio.gather(*tasks, return_exceptions=True)
    return joins


def _forget_earlier_visitors() -> None:
    """Earlier benchmarks' visitors would stay counted until their TTL ran out (they are on this key only)."""
    import redis

    redis.Redis.from_url(harness.redis_url()).delete(harness.BENCH_SETTINGS["PRESENCE_REDIS_KEY"])
