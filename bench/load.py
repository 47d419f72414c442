"""The WebSocket load generator the relay, connection and presence benchmarks share.

One asyncio process drives every socket. A pair is two room sockets; the frames are the
room socket's contract (docs/protocol.md): `message` (text, client_id) answered by
`message_ack` to the sender and `new_message` to the partner, and `signal` (kind, payload)
relayed to the partner. The sender's clock time travels in the text or payload, so one-way
latency is measured at the partner's receipt (one machine, one clock).

The generator's own pauses would count as the server's latency: a full garbage collection
of this process (a thousand sockets' objects) stopped it for ~100 ms, and a phase's p99
was then mostly whether one fell inside it. So a phase runs with the collector off, what
lived before it frozen out of later scans, and collects after it.
"""

import asyncio
import gc
import http.client
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

from bench.harness import note

SIGNAL_KIND = "video-offer"


# --- identity and connection -----------------------------------------------------------


@dataclass
class Identity:
    user_id: str
    cookie: str
    csrf: str
    room_id: str | None = None
    partner_id: str | None = None


def visit(port: int) -> Identity:
    """GET / like a browser: the session (anonymous id) and csrftoken cookies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET / answered {response.status}")
        cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
    finally:
        conn.close()
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return Identity(user_id="", cookie=cookie, csrf=cookies["csrftoken"])


def api(port: int, identity: Identity, path: str, body: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST", path, body=json.dumps(body),
            headers={"Content-Type": "application/json", "X-CSRFToken": identity.csrf, "Cookie": identity.cookie,
                     "Origin": f"http://127.0.0.1:{port}"},
        )  # fmt: skip
        response = conn.getresponse()
        data = json.loads(response.read() or b"{}")
        if response.status != 200:
            raise RuntimeError(f"POST {path} answered {response.status}: {data}")
        return data
    finally:
        conn.close()


def start(port: int, identity: Identity) -> Identity:
    match = api(port, identity, "/api/chat/start", {})
    identity.room_id, identity.partner_id = match["room_id"], match["partner_id"]
    return identity


async def matched_pairs(port: int, pairs: int, *, workers: int = 8) -> list[tuple[Identity, Identity]]:
    """Visitors who pressed Start through the HTTP API, grouped by the rooms they were paired in."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(workers) as pool:
        people = await asyncio.gather(*(loop.run_in_executor(pool, visit, port) for _ in range(2 * pairs)))
        for _ in range(3):
            await asyncio.gather(*(loop.run_in_executor(pool, start, port, p) for p in people if not p.partner_id))
            if all(p.partner_id for p in people):
                break
    by_room: dict[str, list[Identity]] = {}
    for person in people:
        if person.partner_id:
            by_room.setdefault(person.room_id, []).append(person)
    found = [(a, b) for a, b in (members for members in by_room.values() if len(members) == 2)]
    if len(found) < pairs:
        note(f"only {len(found)} of {pairs} pairs formed")
    return found


async def open_socket(url: str, *, origin: str, cookie: str = "") -> tuple[object, dict, float]:
    """Connect and wait for the first frame (room_state or presence); returns (socket, frame, seconds)."""
    started = time.monotonic()
    headers = {"Cookie": cookie} if cookie else None
    ws = await connect(
        url, origin=origin, additional_headers=headers, compression=None, open_timeout=120,
        ping_interval=None, close_timeout=2, max_queue=None, max_size=2**20,
    )  # fmt: skip
    first = json.loads(await asyncio.wait_for(ws.recv(), 60))
    return ws, first, time.monotonic() - started


async def gather_limited(coroutines, limit: int) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def bounded(coroutine):
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(bounded(c) for c in coroutines))


# --- the relay load -------------------------------------------------------------------


async def send_paced(phase: "Phase", rate: float, send: Callable[[], Awaitable[None]]) -> None:
    """Open loop: `send()` every 1/rate s, from a random offset, until the phase ends; a late
    send does not delay the next one's due time (the load does not back off with the server)."""
    interval = 1 / rate
    due = phase.started + random.random() * interval
    while due < phase.until:
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await send()
        due += interval


@dataclass
class Phase:
    number: int
    kind: str  # "message" | "signal"
    started: float = 0.0
    until: float = 0.0
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    delivered_in_window: int = 0
    duplicates: int = 0
    errors: dict = field(default_factory=dict)
    latencies: list = field(default_factory=list)
    seen: set = field(default_factory=set)
    closed_loop: bool = False


class Peer:
    def __init__(self, ws, *, index: int):
        self.ws = ws
        self.index = index
        self.partner: "Peer | None" = None
        self.seq = 0
        self.acks: dict[str, asyncio.Future] = {}
        self.reader: asyncio.Task | None = None


class RelayLoad:
    """Drives pairs of room sockets through open- and closed-loop phases and counts every frame."""

    def __init__(self, peers: list[Peer]):
        self.peers = peers
        self.phases: dict[int, Phase] = {}
        self.current: Phase | None = None
        self.last_frame = time.monotonic()
        for peer in peers:
            peer.reader = asyncio.create_task(self._read(peer))

    async def _read(self, peer: Peer) -> None:
        try:
            async for raw in peer.ws:
                received = time.time()
                self.last_frame = time.monotonic()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "new_message":
                    number, sender, seq, sent = frame["message"]["message"].split(" ")
                    if int(sender) != peer.index:  # the sender's own copy (for its other tabs) is no delivery
                        self._delivered(peer, int(number), int(seq), float(sent), received)
                elif kind == "signal":
                    payload = frame["payload"]
                    if payload["i"] == peer.index:
                        continue  # not a delivery: signals go to the partner only
                    phase = self._delivered(peer, payload["n"], payload["s"], payload["t"], received)
                    if phase is not None and phase.closed_loop and time.monotonic() < phase.until:
                        await self._send(peer, phase)  # ping-pong: the receipt releases the next one
                elif kind == "message_ack":
                    future = peer.acks.pop(frame["client_id"], None)
                    if future is not None and not future.done():
                        future.set_result(True)
                elif kind == "error":
                    phase = self.current
                    if phase is not None:
                        phase.errors[frame.get("code")] = phase.errors.get(frame.get("code"), 0) + 1
        except Exception as exc:  # a dropped socket shows up as lost frames; say why once
            note(f"socket {peer.index} reader stopped: {exc!r}")

    def _delivered(self, peer: Peer, number: int, seq: int, sent: float, received: float) -> Phase | None:
        phase = self.phases.get(number)
        if phase is None:
            return None
        key = (peer.index, seq)
        if key in phase.seen:
            phase.duplicates += 1
            return phase
        phase.seen.add(key)
        phase.delivered += 1
        if time.monotonic() <= phase.until:
            phase.delivered_in_window += 1
        phase.latencies.append(received - sent)
        return phase

    async def _send(self, peer: Peer, phase: Phase) -> asyncio.Future | None:
        peer.seq += 1
        phase.sent += 1
        if phase.kind == "message":
            client_id = f"{phase.number}-{peer.seq}"
            ack = asyncio.get_running_loop().create_future()
            peer.acks[client_id] = ack
            ack.add_done_callback(lambda _: self._acked(phase))
            text = f"{phase.number} {peer.index} {peer.seq} {time.time():.6f}"
            frame = {"type": "message", "text": text, "client_id": client_id}
        else:
            ack = None
            frame = {"type": "signal", "kind": SIGNAL_KIND,
                     "payload": {"type": "offer", "sdp": "v=0", "n": phase.number, "i": peer.index, "s": peer.seq,
                                 "t": time.time()}}
        await peer.ws.send(json.dumps(frame))
        return ack

    def _acked(self, phase: Phase) -> None:
        phase.acked += 1

    async def run_phase(self, *, kind: str, seconds: float, rate_per_pair: float | None, drain: float = 10) -> Phase:
        """Open loop at rate_per_pair (the two people alternate), or closed loop when it is None."""
        phase = Phase(number=len(self.phases) + 1, kind=kind, closed_loop=rate_per_pair is None)
        self.phases[phase.number] = phase
        self.current = phase
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            phase.started = time.monotonic()
            phase.until = phase.started + seconds
            if rate_per_pair is None:
                senders = [self._closed_loop(peer, phase) for peer in self.peers]
            else:
                senders = [self._open_loop(peer, phase, rate_per_pair / 2) for peer in self.peers]
            await asyncio.gather(*senders)
            drain_until = time.monotonic() + drain
            while time.monotonic() < drain_until:
                expected_acks = phase.sent if kind == "message" else 0
                if phase.delivered >= phase.sent and phase.acked >= expected_acks:
                    break
                await asyncio.sleep(0.05)
        finally:
            gc.enable()
        self.current = None
        return phase

    async def wait_quiet(self, *, quiet: float = 2, limit: float = 60) -> None:
        """After an overload, wait until the server's backlog has drained (no frame for `quiet` s)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and time.monotonic() - self.last_frame < quiet:
            await asyncio.sleep(0.2)

    async def _open_loop(self, peer: Peer, phase: Phase, rate: float) -> None:
        await send_paced(phase, rate, lambda: self._send(peer, phase))

    async def _closed_loop(self, peer: Peer, phase: Phase) -> None:
        if phase.kind == "signal":
            await self._send(peer, phase)  # the partner's receipt sends the next (see _read)
            return
        while time.monotonic() < phase.until:
            ack = await self._send(peer, phase)
            try:
                await asyncio.wait_for(asyncio.shield(ack), 10)
            except TimeoutError:
                return  # counted: an unacknowledged message shows in `unacked`

    async def close(self) -> None:
        await asyncio.gather(*(peer.ws.close() for peer in self.peers), return_exceptions=True)
        for peer in self.peers:
            if peer.reader is not None:
                peer.reader.cancel()
        await asyncio.gather(*(p.reader for p in self.peers if p.reader), return_exceptions=True)


def pair_up(sockets: list) -> list[Peer]:
    peers = [Peer(ws, index=i) for i, ws in enumerate(sockets)]
    for a, b in zip(peers[::2], peers[1::2]):
        a.partner, b.partner = b, a
    return peers


def new_room_id() -> str:
    return str(uuid.uuid4())
