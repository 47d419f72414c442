"""Baseline (a): the least a relay can do, in one Python process with the `websockets` package.

It speaks the room socket's frames (room_state on connect; message -> message_ack to the
sender and new_message to the partner, or to every other member of a bigger room (the mood
room benchmark); signal -> signal to the partner) with no identity,
no database and no channel layer: the ceiling of one Python process. Run as
`python -m bench.raw_relay PORT`.
"""

import asyncio
import json
import sys
import uuid

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from bench.harness import raise_fd_limit

rooms: dict[str, list] = {}


async def relay(websocket) -> None:
    room_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
    members = rooms.setdefault(room_id, [])
    members.append(websocket)
    user_id = str(uuid.uuid4())
    try:
        await websocket.send(json.dumps({"type": "room_state", "room_id": room_id, "user_id": user_id,
                                         "partner_id": None, "status": "active"}))
        async for raw in websocket:
            frame = json.loads(raw)
            partner = next((member for member in members if member is not websocket), None)
            if frame.get("type") == "message":
                message_id = str(uuid.uuid4())
                await websocket.send(json.dumps({"type": "message_ack", "client_id": frame["client_id"],
                                                 "id": message_id}))
                # Every other member: the one partner of a 1:1 room, the group of a mood room.
                for member in [member for member in members if member is not websocket]:
                    await _send(member, {"type": "new_message", "message": {
                        "id": message_id, "sender_id": user_id, "message": frame["text"],
                        "timestamp": None, "is_system": False, "client_id": frame["client_id"]}})
            elif frame.get("type") == "signal" and partner is not None:
                await _send(partner, {"type": "signal", "kind": frame["kind"], "payload": frame["payload"]})
    finally:
        members.remove(websocket)
        if not members:
            rooms.pop(room_id, None)


async def _send(websocket, frame: dict) -> None:
    try:
        await websocket.send(json.dumps(frame))
    except ConnectionClosed:
        pass


async def main(port: int) -> None:
    async with serve(relay, "127.0.0.1", port, compression=None, max_queue=None, ping_interval=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    raise_fd_limit()
    asyncio.run(main(int(sys.argv[1])))
