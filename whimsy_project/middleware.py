"""The operator's middleware: the /healthz, /readyz and /metrics endpoints, the
request log line and latency histogram, and the API's no-store header.

Both work in Django's async mode as well as its sync one, so under daphne they add no
hop to a thread: /healthz answers on the event loop, and only the checks behind /readyz
and /metrics run in threads.
"""

import asyncio
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from whimsy_project import metrics
from whimsy_project.health import healthz, readiness, readyz
from whimsy_project.logs import log_request


def metrics_view(request) -> HttpResponse:
    allowed = metrics.scrape_allowed(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        forwarded="HTTP_X_FORWARDED_FOR" in request.META,
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
    )
    if not allowed:
        return JsonResponse(
            {
                "error": {
                    "code": "forbidden",
                    "detail": "Metrics are for METRICS_ALLOWED_IPS or `Authorization: Bearer <METRICS_TOKEN>`.",
                }
            },
            status=403,
        )
    body, content_type = metrics.exposition(readiness=readiness())
    return HttpResponse(body, content_type=content_type)


_ENDPOINTS = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view}
_ON_THE_LOOP = {healthz}


class _EitherModeMiddleware:
    """Runs in the mode of the stack it is in: no hop to a thread under daphne."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)


class OperationsMiddleware(_EitherModeMiddleware):
    """Serves the three operator endpoints before anything else runs.

    First in MIDDLEWARE, so that probes and scrapes work whatever Host header they send
    (load balancers and Prometheus address a process by its IP), over plain HTTP behind
    SECURE_SSL_REDIRECT, without a session cookie, and without appearing in the request
    log or the latency histogram every few seconds.
    """

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        view = _ENDPOINTS.get(request.path_info) if request.method in ("GET", "HEAD") else None
        return view(request) if view else self.get_response(request)

    async def _acall(self, request):
        view = _ENDPOINTS.get(request.path_info) if request.method in ("GET", "HEAD") else None
        if view is None:
            return await self.get_response(request)
        if view in _ON_THE_LOOP:
            return view(request)
        return await asyncio.to_thread(view, request)


class RequestLogMiddleware(_EitherModeMiddleware):
    """One log line per request (route, status, duration, visitor hash) and its latency."""

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        _record(request, response, time.perf_counter() - started)
        return response

    async def _acall(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        _record(request, response, time.perf_counter() - started)
        return response


class ApiNoStoreMiddleware(_EitherModeMiddleware):
    """Every /api/ response is sent with `Cache-Control: no-store` (and the rest of
    never_cache's headers): API answers are one visitor's live state, which neither a shared
    cache nor the browser's back button may replay."""

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        return _no_store(request, self.get_response(request))

    async def _acall(self, request):
        return _no_store(request, await self.get_response(request))


def _no_store(request, response):
    if request.path_info.startswith("/api/"):
        add_never_cache_headers(response)
    return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _record(request, response, duration: float) -> None:
    route = _route(request)
    method = request.method if request.method in _METHODS else "other"  # a label value per verb, not per whim
    metrics.HTTP_LATENCY.labels(route=route, method=method).observe(duration)
    metrics.HTTP_RESPONSES.labels(route=route, method=method, status=str(response.status_code)).inc()
    log_request(
        method=method,
        route=route,
        status=response.status_code,
        duration=duration,
        visitor_id=getattr(request, "visitor_id", None),
    )


def _route(request) -> str:
    """The URL pattern, not the path: few label values, and no ids in them."""
    match = request.resolver_match
    if match is not None:
        return "/" + match.route
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"
