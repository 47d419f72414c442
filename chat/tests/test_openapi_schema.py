"""The OpenAPI document covers the chat endpoints and validates without warnings."""

import pytest
import yaml
from django.core.management import call_command


def test_the_schema_validates_without_warnings_and_lists_the_chat_endpoints(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]
    for path in ("/api/chat/message", "/api/chat/rooms/{room_id}/messages", "/api/chat/ice-servers", "/api/presence"):
        assert path in paths, path
    assert set(paths["/api/chat/message"]["post"]["responses"]) == {"200", "201"}


pytestmark = pytest.mark.django_db
