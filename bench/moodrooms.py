"""Mood room fan-out over real WebSockets: Whimsy beside the raw relay, in one run.

Sessions of `--members` people (identities from GET / and POST /api/sessions/join, like a
browser's) each on their session socket; every member sends a message every `1/--rate`
seconds (open loop), then as fast as acks allow (closed loop: the next message waits for
the ack, which means stored). Each message reaches the other members of its session as
`new_message`: delivered/s counts those receipts, latency is the sender's clock to each
receipt (one machine, one clock). The raw baseline (bench/raw_relay.py, no identity, no
database, no channel layer) gets the same groups and the same load.
"""

import argparse
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

from bench import harness
from bench.harness import emit, ms, note, percentile, ratio
from bench.load import Phase, api, gather_limited, new_room_id, open_socket, send_paced, visit

SERVERS = ["whimsy", "raw"]
CATEGORIES = ["motivated", "hopeful", "lonely", "joyful", "calm", "loving", "books"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench moodrooms")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--members", type=int, default=6)
    parser.add_argument("--rate", type=float, default=0.5, help="messages/s per member (open loop)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--servers", nargs="+", default=SERVERS, choices=SERVERS)
    args = parser.parse_args(argv)
    results = {server: asyncio.run(_measure(server, args)) for server in args.servers}
    ours, raw = results.get("whimsy"), results.get("raw")
    if ours and raw:
        for phase in ours:
            labels = {"phase": phase, "baseline": "raw"}
            if phase == "closed":
                labels["target"] = ">= 0.25"
            emit("moodrooms", "throughput_ratio", ratio(ours[phase]["delivered_per_s"], raw[phase]["delivered_per_s"]),
                 **labels)  # fmt: skip
    if ours and f"open-{args.rate:g}" in ours:
        emit("moodrooms", "latency_p99_ms_open_loop", ours[f"open-{args.rate:g}"]["latency_p99_ms"], server="whimsy",
             target=f"< 50 ms at {args.sessions} sessions x {args.members}")  # fmt: skip


# --- servers and members ----------------------------------------------------------------


def _empty_session_tables() -> None:
    import psycopg

    url = urlunsplit(urlsplit(harness.database_url())._replace(scheme="postgresql"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE message_reactions, message_edits, session_messages, session_participants CASCADE")
        conn.execute("DELETE FROM chat_sessions WHERE NOT is_seeded")
        conn.execute("UPDATE chat_sessions SET current_participants = 0, is_active = true")


def _server(name: str) -> harness.Server:
    if name == "raw":
        return harness.Server(
            lambda port: [harness.PYTHON, "-m", "bench.raw_relay", str(port)], env=harness.server_env(), name="raw relay"
        )
    _empty_session_tables()
    return harness.daphne("whimsy_project.asgi:application")


def _join(port: int, index: int, members: int):
    identity = visit(port)
    category = CATEGORIES[(index // members) % len(CATEGORIES)]
    identity.room_id = api(port, identity, "/api/sessions/join", {"category": category})["session"]["id"]
    return identity


async def _groups(server: harness.Server, name: str, args) -> list[list]:
    """The members' sockets, grouped by session."""
    count = args.sessions * args.members
    if name == "whimsy":
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(8) as pool:
            people = await asyncio.gather(
                *(loop.run_in_executor(pool, _join, server.port, i, args.members) for i in range(count))
            )
        urls = [(f"{server.ws_base}/ws/sessions/{p.room_id}/", p.cookie, p.room_id) for p in people]
    else:
        rooms = [new_room_id() for _ in range(args.sessions)]
        urls = [(f"{server.ws_base}/ws/sessions/{room}/", "", room) for room in rooms for _ in range(args.members)]
    opened = await gather_limited(
        (open_socket(url, origin=server.origin, cookie=cookie) for url, cookie, _ in urls), limit=50
    )
    groups: dict[str, list] = {}
    for (ws, _first, _seconds), (_url, _cookie, room) in zip(opened, urls):
        groups.setdefault(room, []).append(ws)
    sizes = sorted({len(group) for group in groups.values()})
    note(f"moodrooms: {name}: {len(groups)} sessions of {sizes} members")
    return list(groups.values())


# --- the load ---------------------------------------------------------------------------


class Member:
    def __init__(self, ws, *, index: int, others: int):
        self.ws, self.index, self.others = ws, index, others
        self.seq = 0
        self.acks: dict[str, asyncio.Future] = {}


class FanOutLoad:
    def __init__(self, groups: list[list]):
        self.members = []
        for group in groups:
            for ws in group:
                self.members.append(Member(ws, index=len(self.members), others=len(group) - 1))
        self.phases: dict[int, Phase] = {}
        self.current: Phase | None = None
        self.readers = [asyncio.create_task(self._read(member)) for member in self.members]

    async def _read(self, member: Member) -> None:
        try:
            async for raw in member.ws:
                received = time.time()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "new_message":
                    message = frame["message"]
                    parts = str(message.get("content", message.get("message", ""))).split(" ")
                    if len(parts) != 4 or not parts[0].isdigit():
                        continue  # "X joined" and the like
                    number, sender, seq, sent = parts
                    if int(sender) != member.index:
                        self._delivered(member, int(number), int(sender), int(seq), float(sent), received)
                elif kind == "message_ack":
                    future = member.acks.pop(frame["client_id"], None)
                    if future is not None and not future.done():
                        future.set_result(True)
                elif kind == "error" and self.current is not None:
                    errors = self.current.errors
                    errors[frame.get("code")] = errors.get(frame.get("code"), 0) + 1
        except Exception as exc:  # a dropped socket shows up as lost frames; say why once
            note(f"socket {member.index} reader stopped: {exc!r}")

    def _delivered(self, member: Member, number: int, sender: int, seq: int, sent: float, received: float) -> None:
        phase = self.phases.get(number)
        if phase is None:
            return
        key = (member.index, sender, seq)
        if key in phase.seen:
            phase.duplicates += 1
            return
        phase.seen.add(key)
        phase.delivered += 1
        if time.monotonic() <= phase.until:
            phase.delivered_in_window += 1
        phase.latencies.append(received - sent)

    async def _send(self, member: Member, phase: Phase) -> asyncio.Future:
        member.seq += 1
        phase.sent += member.others  # deliveries expected
        client_id = f"{phase.number}-{member.seq}"
        ack = asyncio.get_running_loop().create_future()
        member.acks[client_id] = ack
        ack.add_done_callback(lambda _: setattr(phase, "acked", phase.acked + 1))
        text = f"{phase.number} {member.index} {member.seq} {time.time():.6f}"
        await member.ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
        return ack

    async def run_phase(self, *, seconds: float, rate: float | None, drain: float = 15) -> Phase:
        phase = Phase(number=len(self.phases) + 1, kind="message", closed_loop=rate is None)
        self.phases[phase.number] = phase
        self.current = phase
        phase.started = time.monotonic()
        phase.until = phase.started + seconds
        loop = self._closed_loop if rate is None else self._open_loop
        await asyncio.gather(*(loop(member, phase, rate) for member in self.members))
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline and phase.delivered < phase.sent:
            await asyncio.sleep(0.05)
        self.current = None
        return phase

    async def _open_loop(self, member: Member, phase: Phase, rate: float) -> None:
        await send_paced(phase, rate, lambda: self._send(member, phase))

    async def _closed_loop(self, member: Member, phase: Phase, _rate=None) -> None:
        while time.monotonic() < phase.until:
            ack = await self._send(member, phase)
            try:
                await asyncio.wait_for(asyncio.shield(ack), 10)
            except TimeoutError:
                return  # counted: the deliveries it expected show as lost

    async def close(self) -> None:
        await asyncio.gather(*(member.ws.close() for member in self.members), return_exceptions=True)
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def _measure(name: str, args) -> dict:
    server = _server(name)
    results: dict = {}
    try:
        load = FanOutLoad(await _groups(server, name, args))
        members = len(load.members)
        cpu_before = server.cpu_seconds()
        for rate in (args.rate, None):
            phase_name = "closed" if rate is None else f"open-{rate:g}"
            phase = await load.run_phase(seconds=args.seconds, rate=rate)
            figures = {
                "delivered_per_s": round(phase.delivered_in_window / args.seconds, 1),
                "latency_p50_ms": ms(percentile(phase.latencies, 0.5)),
                "latency_p99_ms": ms(percentile(phase.latencies, 0.99)),
                "lost": phase.sent - phase.delivered,
                "duplicates": phase.duplicates,
            }
            if phase.errors:
                figures["errors"] = phase.errors
            for figure, value in figures.items():
                emit("moodrooms", figure, value, server=name, phase=phase_name, members=members)
            results[phase_name] = figures
        emit("moodrooms", "server_cpu_s", round(server.cpu_seconds() - cpu_before, 1), server=name, members=members)
        await load.close()
    finally:
        server.stop()
    return results
