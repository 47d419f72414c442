from django.urls import path

from moodrooms.consumers import SessionSocket

websocket_urlpatterns = [
    # Any string: a malformed id gets a 4004 close the page understands, not a 404 handshake.
    path("ws/sessions/<str:session_id>/", SessionSocket.as_asgi()),
]
