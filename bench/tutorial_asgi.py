"""Baseline (b): the Channels tutorial's chat consumer, served by daphne on the same channel layer.

Every frame is group_send to the room's group and every member's handler writes it out;
nothing is stored, nothing is checked beyond the tutorial's origin and session middleware.
It speaks the room socket's frames so that the same load generator drives it: the sender's
own copy of a message becomes its message_ack. Not part of the product:
`daphne bench.tutorial_asgi:application`.
"""

import json
import os
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402


class TutorialChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_id = str(self.scope["url_route"]["kwargs"]["room_id"])
        self.room_group_name = f"tutorial.{self.room_id.replace('-', '')}"
        self.user_id = str(uuid.uuid4())
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "room_state", "room_id": self.room_id,
                                              "user_id": self.user_id, "partner_id": None, "status": "active"}))

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data):
        frame = json.loads(text_data)
        if frame.get("type") == "message":
            event = {"type": "chat.message", "text": frame["text"], "client_id": frame["client_id"],
                     "id": str(uuid.uuid4()), "sender_id": self.user_id, "sender_channel": self.channel_name}
        elif frame.get("type") == "signal":
            event = {"type": "chat.signal", "kind": frame["kind"], "payload": frame["payload"],
                     "sender_channel": self.channel_name}
        else:
            return
        await self.channel_layer.group_send(self.room_group_name, event)

    async def chat_message(self, event):
        if event["sender_channel"] == self.channel_name:
            await self.send(text_data=json.dumps({"type": "message_ack", "client_id": event["client_id"],
                                                  "id": event["id"]}))
            return
        await self.send(text_data=json.dumps({"type": "new_message", "message": {
            "id": event["id"], "sender_id": event["sender_id"], "message": event["text"], "timestamp": None,
            "is_system": False, "client_id": event["client_id"]}}))

    async def chat_signal(self, event):
        if event["sender_channel"] != self.channel_name:
            await self.send(text_data=json.dumps({"type": "signal", "kind": event["kind"],
                                                  "payload": event["payload"]}))


application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter([
        path("ws/chat/<uuid:room_id>/", TutorialChatConsumer.as_asgi()),
    ]))),
})
