"""The OpenAPI document validates (OpenAPI 3, no generator warnings) and documents every API route."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def api_routes(patterns=None, prefix: str = "") -> set[str]:
    """Every /api/ route of the URLconf served by a DRF view, written as OpenAPI paths."""
    routes = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls") and route.startswith("api/"):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return routes - {"/api/schema/"}


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
