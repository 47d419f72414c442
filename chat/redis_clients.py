"""The Redis clients of the realtime side (presence, process liveness): short timeouts, so
that Redis being down costs a failed call, never a stuck socket."""

import asyncio
import weakref
from functools import cache

from django.conf import settings

_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()


def async_redis():
    """This event loop's client (redis.asyncio clients belong to the loop that made them)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        import redis.asyncio

        client = _async_clients[loop] = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return client


@cache
def sync_redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
