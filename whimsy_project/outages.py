"""PostgreSQL or Redis going away: callers get a clear 503, never an HTML 500 page.

While a backing service is down (a failover, a restart, a network cut) every request that
needs it fails; it must fail in the API's own terms, `{"error": {"code":
"service_unavailable", ...}}` with status 503 and Retry-After, so that pages and clients
retry. Dead pooled connections are detected before use (the psycopg pool's check, see
whimsy_project.env), so once the service is back the next request is served normally.
Only connection-level errors count: an IntegrityError or a ProgrammingError is a bug and
stays a 500.
"""

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.deprecation import MiddlewareMixin
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from whimsy_project.errors import ServiceUnavailable

OUTAGE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


class ServiceUnavailableMiddleware(MiddlewareMixin):
    """Turns an outage error raised by a view (DRF's included) into the JSON 503.

    MiddlewareMixin keeps the request path async under ASGI; only an exception costs a hop.
    """

    def process_exception(self, request, exception):
        if not is_outage(exception):
            return None
        error = ServiceUnavailable()
        return JsonResponse(
            {"error": {"code": error.code, "detail": error.detail}}, status=error.status, headers=error.headers()
        )
