"""The OpenAPI document validates (OpenAPI 3, no generator warnings) and documents every API route."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import serializers

from chat.apis import StrictCharField
from whimsy_project.api import NOT_BLANK

pytestmark = pytest.mark.django_db


def api_views(patterns=None, prefix: str = "") -> dict[str, type]:
    """Every /api/ route of the URLconf served by a DRF view, written as an OpenAPI path: its view class."""
    views = {}
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            views |= api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls") and route.startswith("api/"):
            views["/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)] = pattern.callback.cls
    views.pop("/api/schema/", None)
    return views


def api_routes() -> set[str]:
    return set(api_views())


def test_the_schema_is_valid_and_documents_every_api_route(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]

    routes = api_routes()
    assert {"/api/chat/start", "/api/chat/message", "/api/report", "/api/presence"} <= routes  # the walk works
    assert routes <= set(paths), sorted(routes - set(paths))
    responses = paths["/api/chat/message"]["post"]["responses"]
    assert set(responses) == {"200", "201", "400", "403", "404", "409", "429", "503"}
    assert responses["429"] == {"$ref": "#/components/responses/Error429"}


def test_a_not_blank_fields_pattern_refuses_exactly_what_the_server_refuses(tmp_path):
    """The schema's pattern and the server's check agree on every character: what the
    server trims away as whitespace (str.strip) the pattern does not count as visible."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    schemas = yaml.safe_load(out.read_text())["components"]["schemas"]
    patterns = {
        field["pattern"]
        for schema in schemas.values()
        for field in schema.get("properties", {}).values()
        if "not only whitespace" in field.get("description", "")
    }
    assert len(patterns) == 1  # a message's text, a thread message's body: one rule
    pattern = patterns.pop()
    # Clients read it as ECMA-262, where \s, \w, \d and \b mean less than in Python.
    assert not re.search(r"\\[sSwWdDbB]", pattern), pattern
    pattern = re.compile(pattern)
    for code in range(1, 0x3001):
        character = chr(code)
        assert bool(pattern.match(character)) == bool(character.strip()), hex(code)


def test_every_text_input_the_server_trims_and_refuses_when_blank_states_the_not_blank_pattern():
    """DRF trims a text field and refuses what is left empty; the schema must say so, or a
    client (schemathesis found one: a report's thread_id of U+001E) sends what it allows and
    is refused."""
    unstated = [
        f"{path} {name}"
        for path, view in api_views().items()
        if hasattr(view, "InputSerializer")
        for name, field in view.InputSerializer().fields.items()
        if type(field) in (serializers.CharField, StrictCharField)
        and field.trim_whitespace and not field.allow_blank and NOT_BLANK not in field.validators
    ]
    assert unstated == []
