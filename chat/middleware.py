"""Puts the visitor's identity into every WebSocket scope, from the session only."""

from channels.middleware import BaseMiddleware

from chat.identity import client_ip, hash_ip, visitor_id_from_session


class VisitorScopeMiddleware(BaseMiddleware):
    """scope["visitor_id"] (None without a session) and scope["ip_hash"].

    Sits inside Channels' SessionMiddlewareStack. Reading the session here is safe in
    async code because sessions are signed cookies: no database is involved.
    """

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or [])
        remote_addr = (scope.get("client") or ("", 0))[0] or ""
        ip = client_ip(remote_addr=remote_addr, forwarded_for=headers.get(b"x-forwarded-for", b"").decode("latin-1"))
        scope = dict(scope, visitor_id=visitor_id_from_session(scope["session"]), ip_hash=hash_ip(ip))
        return await super().__call__(scope, receive, send)
