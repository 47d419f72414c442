"""Puts the visitor's identity into every WebSocket scope, from the session cookie only."""

from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http.cookie import parse_cookie

from chat.identity import client_ip, hash_ip, visitor_id_from_session

SIGNED_COOKIE_SESSIONS = "django.contrib.sessions.backends.signed_cookies"


class VisitorScopeMiddleware:
    """scope["visitor_id"] (None without a session) and scope["ip_hash"].

    It reads the session cookie itself instead of sitting inside Channels'
    SessionMiddlewareStack: no socket needs the session after connect, and that stack keeps
    a cookie dict, a lazy session object, two copies of the scope and two coroutine frames
    alive for as long as each socket is open (docs/decisions.md, memory per idle socket).
    Reading the session here is safe in async code because sessions are signed cookies:
    no database is involved.
    """

    def __init__(self, inner):
        if settings.SESSION_ENGINE != SIGNED_COOKIE_SESSIONS:
            raise ImproperlyConfigured(f"The socket identity reads sessions without a database: {SIGNED_COOKIE_SESSIONS}")
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    def __call__(self, scope, receive, send):
        # Not a coroutine function: the inner application's coroutine is handed to the caller
        # to await, so no frame of this middleware lives beside each open socket.
        headers = dict(scope["headers"])
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
        session = self.session_store(session_key=cookies.get(settings.SESSION_COOKIE_NAME))
        remote_addr = (scope.get("client") or ("", 0))[0] or ""
        ip = client_ip(remote_addr=remote_addr, forwarded_for=headers.get(b"x-forwarded-for", b"").decode("latin-1"))
        return self.inner(
            {**scope, "visitor_id": visitor_id_from_session(session), "ip_hash": hash_ip(ip)}, receive, send
        )
