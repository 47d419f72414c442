"""One error shape for the whole JSON API: {"error": {"code": "...", "detail": "..."}}."""

from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from whimsy_project.errors import WhimsyError


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string; DRF's own field would also take an integer."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def validated_input(serializer_class, request) -> dict:
    """The request body checked by `serializer_class`; a non-object body is a 400 too."""
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def error_response(
    *, code: str, detail: str, status_code: int, headers: dict | None = None, extra: dict | None = None
) -> Response:
    return Response({"error": {"code": code, "detail": detail, **(extra or {})}}, status=status_code, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, WhimsyError):
        return error_response(
            code=exc.code, detail=exc.detail, status_code=exc.status, headers=exc.headers(), extra=exc.extra()
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            code="invalid", detail=_flatten_validation(exc.detail), status_code=status.HTTP_400_BAD_REQUEST
        )
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    return error_response(
        code=code if isinstance(code, str) else "error",
        detail=str(detail),
        status_code=response.status_code,
        headers={k: v for k, v in response.items()},
    )


def _flatten_validation(detail, prefix: str = "") -> str:
    """'interests.0: Ensure this field has no more than 30 characters.' style text."""
    if isinstance(detail, dict):
        parts = [_flatten_validation(value, f"{prefix}{key}." if key != "non_field_errors" else prefix)
                 for key, value in detail.items()]
        return " ".join(parts)
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            label = prefix.rstrip(".")
            text = " ".join(str(item) for item in detail)
            return f"{label}: {text}" if label else text
        return " ".join(_flatten_validation(item, f"{prefix}{i}.") for i, item in enumerate(detail) if item)
    label = prefix.rstrip(".")
    return f"{label}: {detail}" if label else str(detail)
