"""Anonymous, server-issued identity.

Every visitor gets a random UUID in their signed session cookie on their first
request. Identity is always read from the session, never from a request body or
a WebSocket frame, so nobody can speak as someone else.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from importlib import import_module
from uuid import UUID

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from whimsy_project.errors import NoSession

SESSION_VISITOR_KEY = "user_id"


@dataclass(frozen=True)
class VisitorIdentity:
    """What DRF sees as request.user for an anonymous chat visitor."""

    id: UUID
    ip_hash: str

    is_authenticated = True


def client_ip(*, remote_addr: str, forwarded_for: str = "") -> str:
    """The client address, believing X-Forwarded-For only as far as TRUSTED_PROXY_COUNT proxies."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw, so the client is that many from the end.
        if len(hops) >= proxies:
            return hops[-proxies]
    return remote_addr or ""


def hash_ip(ip: str) -> str:
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def visitor_id_from_session(session) -> UUID | None:
    raw = session.get(SESSION_VISITOR_KEY)
    if not raw:
        return None
    try:
        return UUID(raw)
    except (TypeError, ValueError):
        return None


class VisitorMiddleware:
    """Issues the visitor UUID and exposes request.visitor_id and request.ip_hash."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        visitor_id = visitor_id_from_session(request.session)
        if visitor_id is None:
            visitor_id = uuid.uuid4()
            request.session[SESSION_VISITOR_KEY] = str(visitor_id)
        request.visitor_id = visitor_id
        request.ip_hash = hash_ip(
            client_ip(
                remote_addr=request.META.get("REMOTE_ADDR", ""),
                forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
            )
        )
        return self.get_response(request)


class CsrfFailed(exceptions.PermissionDenied):
    default_code = "csrf_failed"


class VisitorAuthentication(SessionAuthentication):
    """The session's visitor, with the CSRF check DRF's SessionAuthentication applies."""

    def authenticate(self, request):
        django_request = request._request
        visitor_id = getattr(django_request, "visitor_id", None)
        if visitor_id is None:
            return None
        if not _cookie_names(django_request, visitor_id):
            raise NoSession()
        self.enforce_csrf(django_request)
        return VisitorIdentity(id=visitor_id, ip_hash=django_request.ip_hash), None

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            raise CsrfFailed(
                f"{exc.detail} Load the site first and send its csrftoken cookie in the X-CSRFToken header."
            ) from None


def _cookie_names(request, visitor_id: UUID) -> bool:
    """Whether the request's own session cookie carried this visitor, rather than
    VisitorMiddleware having just issued one (no cookie, or one whose signature failed):
    the API never answers for, or acts as, an identity invented on the fly."""
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not cookie:
        return False
    return visitor_id_from_session(import_module(settings.SESSION_ENGINE).SessionStore(cookie)) == visitor_id


class IsVisitor(BasePermission):
    message = "Open the site first so that you get an anonymous identity."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, VisitorIdentity)
