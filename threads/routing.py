from django.urls import path

from threads.consumers import ThreadSocket

websocket_urlpatterns = [
    # Any string: an id that names no thread of yours gets a 4004 close the page understands.
    path("ws/threads/<str:thread_id>/", ThreadSocket.as_asgi()),
]
