"""ICE servers for WebRTC, with TURN credentials in the TURN REST API scheme.

coturn's use-auth-secret accepts username "<unix expiry>:<anything>" with the password
base64(HMAC-SHA1(static-auth-secret, username)): nothing to store, and a leaked
credential stops working at its expiry.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from uuid import UUID

from django.conf import settings

from chat.models import ChatRoom
from chat.selectors import participation_open_for
from whimsy_project.errors import NotParticipant


# Who else may make calls, one check per room kind: apps above chat (mood rooms' voice)
# register theirs at start-up, since chat may not import them.
_call_checks: list[Callable[..., bool]] = []


def register_call_check(check: Callable[..., bool]) -> None:
    """`check(*, user_id) -> bool`: True if this visitor is in a call of that kind's rooms."""
    if check not in _call_checks:
        _call_checks.append(check)


def in_one_to_one_call(*, user_id: UUID) -> bool:
    participation = participation_open_for(user_id=user_id)
    return participation is not None and participation.room.status == ChatRoom.Status.ACTIVE


def ice_configuration_for(*, user_id: UUID) -> dict:
    """The RTCConfiguration parts a browser needs, for someone chatting with a partner or in a mood room."""
    if not any(check(user_id=user_id) for check in (in_one_to_one_call, *_call_checks)):
        raise NotParticipant("Call servers are given only to people in a chat with a partner or in a mood room.")
    servers = [_with_url_list(server) for server in settings.ICE_SERVERS]
    if settings.TURN_URLS:
        servers.append(turn_credentials(user_id=user_id))
    return {"ice_servers": servers, "ice_transport_policy": settings.ICE_TRANSPORT_POLICY}


def turn_credentials(*, user_id: UUID, now: float | None = None) -> dict:
    expiry = int(time.time() if now is None else now) + settings.TURN_TTL
    username = f"{expiry}:{user_id}"
    digest = hmac.new(settings.TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return {"urls": list(settings.TURN_URLS), "username": username, "credential": base64.b64encode(digest).decode()}


def _with_url_list(server: dict) -> dict:
    urls = server["urls"]
    return {**server, "urls": [urls] if isinstance(urls, str) else list(urls)}
