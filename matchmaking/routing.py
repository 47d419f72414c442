from django.urls import path

from matchmaking.consumers import RoomConsumer

websocket_urlpatterns = [
    # Any string: a malformed room id gets a 4004 close the page understands, not a 404 handshake.
    path("ws/chat/<str:room_id>/", RoomConsumer.as_asgi()),
]
