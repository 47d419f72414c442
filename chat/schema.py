"""How the OpenAPI document describes visitor identity."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class VisitorAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "chat.identity.VisitorAuthentication"
    name = "visitorSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "Set by GET /; without it every call gets 403 `no_session`. Unsafe methods also need "
            "the csrftoken cookie echoed in X-CSRFToken (else 403 `csrf_failed`).",
        }
