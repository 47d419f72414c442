"""One error shape for the whole JSON API: {"error": {"code": "...", "detail": "..."}}."""

from django.core.validators import RegexValidator
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from whimsy_project.errors import WhimsyError


# Text the server trims and then refuses when nothing is left: "contains a visible
# character" (and, as every DRF text field, no NUL character), stated as a pattern. The
# whitespace is spelt out as Python's str.strip() knows it: `\s` means less in the
# schema's (ECMA-262) patterns than in Python's (U+001C-U+001F, U+0085).
PYTHON_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = RegexValidator(
    rf"^[^\x00]*[^{PYTHON_WHITESPACE}\x00][^\x00]*$", message="This field cannot be empty or only whitespace."
)
NO_NUL_PATTERN = "^[^\\u0000]*$"


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string; DRF's own field would also take an integer."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class ExactlyOneOf(serializers.Serializer):
    """An input that names exactly one of `one_of` (say, what a report is about). The
    OpenAPI document states it too, as `oneOf` required sets (ExactlyOneOfScheme)."""

    one_of: tuple[str, ...] = ()
    # Fields that come with one choice and only with it, e.g. {"session_id": ("reported_user_id",)}.
    companions: dict[str, tuple[str, ...]] = {}

    def validate(self, data):
        chosen = set(self.one_of).intersection(data)
        if len(chosen) != 1:
            raise serializers.ValidationError(f"Give exactly one of {', '.join(self.one_of)}.")
        for owner, fields in self.companions.items():
            for name in fields:
                if (name in data) != (owner in chosen):
                    raise serializers.ValidationError(f"{name} goes with {owner}, and only with it.")
        return data


class ExactlyOneOfScheme(OpenApiSerializerExtension):
    target_class = ExactlyOneOf
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["oneOf"] = [self._branch(name) for name in self.target.one_of]
        return schema

    def _branch(self, name: str) -> dict:
        """This choice and its companions; none of the other choices nor their companions."""
        companions = self.target.companions
        branch: dict = {"required": [name, *companions.get(name, ())]}
        if not companions:
            return branch  # the other choices' branches exclude each other already
        others = [other for other in self.target.one_of if other != name]
        foreign = others + [field for other in others for field in companions.get(other, ())]
        branch["not"] = {"anyOf": [{"required": [field]} for field in foreign]}
        return branch


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


# --- the error envelope in the OpenAPI document ----------------------------------------

_ERROR_RESPONSES = {
    400: "The request is malformed or breaks a documented limit (code `invalid`).",
    403: "No session cookie (`no_session`; GET / sets it), a missing CSRF token (`csrf_failed`), "
    "a ban (`banned`), or not yours (`not_participant`).",
    404: "It does not exist (`room_not_found` and the like).",
    409: "It is in the wrong state for this (`room_closed`, `no_partner`, `already_left`, `room_full`, ...).",
    410: "It has ended (`thread_ended`).",
    429: "Too many requests (`rate_limited`): wait `Retry-After` seconds.",
    503: "A backing service is down or a delivery failed (`service_unavailable`, `delivery_failed`): try again.",
}
_UNSAFE = {"post", "put", "patch", "delete"}


def document_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: the one error envelope, documented once under
    components and referenced by every operation for each error status it can give.

    The statuses follow from what the operation is, so a new view gets them without
    doing anything: 503 always (a backing service may be down); 400 when it takes input;
    403 when it needs the visitor; 404 when it names a resource (a path parameter or a
    uuid in the body); 409 and 429 when it needs the visitor and changes state. A view
    that can give another status (410 for an ended thread) lists it in its
    `extend_schema(responses=...)` with any body: the envelope replaces it.
    """
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "detail"],
                "properties": {
                    "code": {"type": "string", "description": "Stable, machine-readable: `rate_limited`, ..."},
                    "detail": {"type": "string", "description": "For people; may change."},
                    "retry_after": {"type": "number", "description": "With 429: seconds to wait."},
                },
                "additionalProperties": True,
            }
        },
    }
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = components.setdefault("responses", {})
    for status, description in _ERROR_RESPONSES.items():
        responses[f"Error{status}"] = {"description": description, "content": error_content}
    responses["Error429"]["headers"] = {
        "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait."}
    }
    schemas = components["schemas"]
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            _state_no_nul(_request_schema(operation, schemas), schemas)
            listed = {int(status) for status in operation.get("responses", {}) if status.isdigit()}
            statuses = _error_statuses(method, operation, schemas) | (listed & _ERROR_RESPONSES.keys())
            for status in sorted(statuses):
                operation["responses"][str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    return result


def _error_statuses(method: str, operation: dict, schemas: dict) -> set[int]:
    statuses = {503}
    parameters = operation.get("parameters", [])
    body = _request_schema(operation, schemas)
    if parameters or body is not None:
        statuses.add(400)
    needs_visitor = any(requirement for requirement in operation.get("security", []))
    if needs_visitor:
        statuses.add(403)
        if method in _UNSAFE:
            statuses |= {409, 429}
    names_a_resource = any(p.get("in") == "path" for p in parameters) or any(
        prop.get("format") == "uuid" for prop in (body or {}).get("properties", {}).values()
    )
    if names_a_resource:
        statuses.add(404)
    return statuses


def _state_no_nul(schema: dict | None, schemas: dict) -> None:
    """DRF's text fields refuse NUL characters (PostgreSQL cannot store them): say so for
    every free-text field of a request body. Fields with their own pattern exclude NUL in
    it (NOT_BLANK); fields with a format or a choice are not free text."""
    if not schema:
        return
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    for child in schema.get("properties", {}).values():
        _state_no_nul(child, schemas)
    if "items" in schema:
        _state_no_nul(schema["items"], schemas)
    if schema.get("type") == "string" and not {"format", "enum", "pattern"} & schema.keys():
        schema["pattern"] = NO_NUL_PATTERN


def _request_schema(operation: dict, schemas: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema") if content else None
    if schema and "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


@csrf_exempt  # a 404 whatever the method: Django's CSRF refusal would be an HTML page
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"error": {"code": "not_found", "detail": "There is no such API endpoint."}}, status=404)
