"""Message and signal relay over real WebSockets: Whimsy beside two baselines, in one run.

Servers, each measured with the same load generator (bench/load.py) and the same pairs:
- whimsy: daphne + channels-redis + PostgreSQL, the product's room socket; identities come
  from GET / and POST /api/chat/start like a browser's;
- raw: bench/raw_relay.py, a bare `websockets` relay (the ceiling of one Python process);
- tutorial: bench/tutorial_asgi.py, the Channels tutorial's group_send chat consumer on the
  same daphne and Redis, storing nothing.

For each frame kind (message: stored and acknowledged; signal: relayed only), every pair
sends at fixed rates (open loop) and then as fast as the protocol allows (closed loop:
a message waits for its ack; a signal waits for the partner's reply signal).
"""

import argparse
import asyncio
import json

from bench import harness
from bench.harness import emit, ms, note, percentile, ratio
from bench.load import RelayLoad, gather_limited, matched_pairs, new_room_id, open_socket, pair_up

SERVERS = ["whimsy", "tutorial", "raw"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench relay")
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--rates", type=float, nargs="*", default=[2, 10, 20], help="messages/s per pair")
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--warmup-seconds", type=float, default=3, help="unmeasured traffic before the first phase")
    parser.add_argument("--kinds", nargs="+", default=["signal", "message"], choices=["message", "signal"])
    parser.add_argument("--servers", nargs="+", default=SERVERS, choices=SERVERS)
    args = parser.parse_args(argv)
    results = {}
    for server in args.servers:
        results[server] = asyncio.run(_measure(server, args))
    _compare(results, args)


def _server(name: str) -> harness.Server:
    if name == "raw":
        return harness.Server(
            lambda port: [harness.PYTHON, "-m", "bench.raw_relay", str(port)], env=harness.server_env(), name="raw relay"
        )
    if name == "tutorial":
        return harness.daphne("bench.tutorial_asgi:application")
    harness.empty_chat_tables()
    return harness.daphne("whimsy_project.asgi:application")


async def _connect(server: harness.Server, name: str, pairs: int) -> list:
    if name == "whimsy":
        identities = await matched_pairs(server.port, pairs)
        people = [person for pair in identities for person in pair]
        urls = [(f"{server.ws_base}/ws/chat/{p.room_id}/", p.cookie) for p in people]
    else:
        rooms = [new_room_id() for _ in range(pairs)]
        urls = [(f"{server.ws_base}/ws/chat/{room}/", "") for room in rooms for _ in range(2)]
    opened = await gather_limited(
        (open_socket(url, origin=server.origin, cookie=cookie) for url, cookie in urls), limit=50
    )
    sockets = [ws for ws, _first, _seconds in opened]
    if name == "whimsy":
        # A signal before partner_connected is refused (the protocol says to wait for it);
        # a pair refused at the start of a closed loop would drop out of it.
        await asyncio.gather(*(_partner_connected(ws) for ws in sockets))
    return sockets


async def _partner_connected(ws) -> None:
    while json.loads(await asyncio.wait_for(ws.recv(), 60)).get("type") != "partner_connected":
        pass


async def _measure(name: str, args) -> dict:
    server = _server(name)
    results: dict = {}
    try:
        note(f"relay: {name} on port {server.port}, connecting {args.pairs} pairs")
        load = RelayLoad(pair_up(await _connect(server, name, args.pairs)))
        pairs = len(load.peers) // 2
        if args.warmup_seconds:
            # Steady chat is measured, not the aftermath of all sockets connecting at once: the
            # server's first collections of the young generation then scan every new socket's
            # objects (a 70 ms pause seen at 1,000 sockets), once.
            await load.run_phase(kind=args.kinds[0], seconds=args.warmup_seconds, rate_per_pair=min(args.rates or [2]))
        cpu_before = server.cpu_seconds()
        for kind in args.kinds:
            overloaded_at = None
            for rate in [*args.rates, None]:
                phase_name = "closed" if rate is None else f"open-{rate:g}"
                if overloaded_at is not None and rate is not None:
                    # A higher rate would only pile onto the backlog; say so instead.
                    emit("relay", "skipped_overloaded_at", overloaded_at, kind=kind, server=name, phase=phase_name)
                    continue
                phase = await load.run_phase(kind=kind, seconds=args.seconds, rate_per_pair=rate)
                if phase.sent > phase.delivered:
                    if rate is not None:
                        overloaded_at = phase_name
                    # A backlog left behind (also by a closed loop after an overload) would
                    # count against the next phase's latency: let it drain first.
                    await load.wait_quiet()
                figures = {
                    "offered_per_s": round(phase.sent / args.seconds, 1),
                    "delivered_per_s": round(phase.delivered_in_window / args.seconds, 1),
                    "latency_p50_ms": ms(percentile(phase.latencies, 0.5)),
                    "latency_p99_ms": ms(percentile(phase.latencies, 0.99)),
                    "lost": phase.sent - phase.delivered,
                    "duplicates": phase.duplicates,
                }
                if kind == "message":
                    figures["unacked"] = phase.sent - phase.acked
                if phase.errors:
                    figures["errors"] = phase.errors
                for figure, value in figures.items():
                    emit("relay", figure, value, kind=kind, server=name, phase=phase_name, pairs=pairs)
                results[(kind, phase_name)] = figures
        emit("relay", "server_cpu_s", round(server.cpu_seconds() - cpu_before, 1), server=name, pairs=pairs)
        await load.close()
    finally:
        server.stop()
    return results


def _compare(results: dict, args) -> None:
    ours = results.get("whimsy")
    if not ours:
        return
    targets = {
        ("signal", "tutorial"): ">= 2",
        ("signal", "raw"): ">= 0.25",
        ("message", "raw"): ">= 0.10",
    }
    for kind in args.kinds:
        for baseline in ("tutorial", "raw"):
            if baseline not in results:
                continue
            for phase_name in [f"open-{r:g}" for r in args.rates] + ["closed"]:
                key = (kind, phase_name)
                if key not in ours or key not in results[baseline]:
                    continue  # skipped: a lower rate already overloaded one of them
                labels = {"kind": kind, "phase": phase_name, "baseline": baseline}
                if phase_name == "closed" and (kind, baseline) in targets:
                    labels["target"] = targets[(kind, baseline)]
                emit(
                    "relay", "throughput_ratio",
                    ratio(ours[key]["delivered_per_s"], results[baseline][key]["delivered_per_s"]), **labels,
                )
    if ("message", "open-2") in ours:
        emit("relay", "latency_p99_ms_at_2_per_pair", ours[("message", "open-2")]["latency_p99_ms"],
             kind="message", server="whimsy", target="< 30 ms at 500 pairs")
