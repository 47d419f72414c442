"""The pages people use. Each renders a template; the behaviour lives in static/js."""

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from chat.protocol import MAX_MESSAGE_CHARS

# Stranger-written text is only ever inserted as text, and this keeps it that way:
# no inline script, nothing loaded from elsewhere, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Only the chat page may ask for the camera and microphone.
PERMISSIONS_POLICY = "camera=(self), microphone=(self), geolocation=(), payment=()"


def page(view):
    """A page view: GET/HEAD only, sets the csrftoken cookie the JS API client echoes, strict headers."""

    @require_safe
    @ensure_csrf_cookie
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response

    return wrapper


@page
def home(request):
    return render(
        request,
        "home.html",
        {"max_interests": settings.MAX_INTERESTS, "max_interest_length": settings.MAX_INTEREST_LENGTH},
    )


@page
def chat(request):
    return render(request, "chat.html", {"max_message_length": MAX_MESSAGE_CHARS})
