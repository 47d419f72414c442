import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whimsy_project.settings")

# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chat.middleware import VisitorScopeMiddleware  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402
from matchmaking.routing import websocket_urlpatterns as room_websocket_urlpatterns  # noqa: E402
from moodrooms.routing import websocket_urlpatterns as session_websocket_urlpatterns  # noqa: E402
from threads.routing import websocket_urlpatterns as thread_websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin check stops other sites' pages from using a visitor's cookie
        # (cross-site WebSocket hijacking); identity then comes from the session alone.
        "websocket": AllowedHostsOriginValidator(
            VisitorScopeMiddleware(
                URLRouter(
                    websocket_urlpatterns
                    + room_websocket_urlpatterns
                    + session_websocket_urlpatterns
                    + thread_websocket_urlpatterns
                )
            )
        ),
    }
)

# A full garbage collection scans every object alive: with a thousand sockets open it
# paused the server for ~200 ms, and every message in flight waited. What start-up
# loaded (Django, the apps) lives as long as the process: freeze it out of the scans.
# A young collection every 10,000 allocations instead of 700 lets the short-lived
# objects of the frames in flight die before a collection promotes them, so the old
# generation fills, and is fully collected, far less often.
gc.freeze()
gc.set_threshold(10_000)
