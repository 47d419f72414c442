"""GET/PATCH /api/me: a generated name and avatar, changeable within the rules."""

import uuid

import pytest

from chat.models import Visitor
from chat.names import avatar_parts, clean_display_name, display_name_for
from whimsy_project.errors import InvalidInput

pytestmark = pytest.mark.django_db


def test_it_shows_the_generated_name_without_creating_the_visitor_row(visitor):
    alice = visitor()
    response = alice.get("/api/me")
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == alice.user_id
    assert body["username"] == display_name_for(uuid.UUID(alice.user_id))
    assert len(body["username"].split()) == 2
    assert body["avatar"]["emoji"] and body["avatar"]["color"].startswith("#")
    assert not Visitor.objects.filter(id=alice.user_id).exists()


def test_the_visitor_row_gets_the_same_generated_name_at_the_first_start(visitor):
    alice = visitor()
    shown = alice.get("/api/me").json()
    assert alice.api("post", "/api/chat/start").status_code == 200
    row = Visitor.objects.get(id=alice.user_id)
    assert row.display_name == shown["username"]
    assert avatar_parts(row.avatar) == shown["avatar"]


def test_it_renames_trimmed_and_keeps_the_avatar(visitor):
    alice = visitor()
    before = alice.get("/api/me").json()
    response = alice.api("patch", "/api/me", {"username": "   Night   Owl  "})
    assert response.status_code == 200, response.content
    assert response.json() == {**before, "username": "Night Owl"}
    assert Visitor.objects.get(id=alice.user_id).display_name == "Night Owl"
    assert alice.get("/api/me").json()["username"] == "Night Owl"


@pytest.mark.parametrize("name", [" a ", "x" * 25, "bad\x07bell", "zero\u200bwidth", "", "   "])
def test_it_refuses_names_outside_the_rules_and_changes_nothing(visitor, name):
    alice = visitor()
    response = alice.api("patch", "/api/me", {"username": name})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Visitor.objects.filter(id=alice.user_id).exists()


def test_it_refuses_a_non_string_name(visitor):
    response = visitor().api("patch", "/api/me", {"username": 42})
    assert response.status_code == 400


def test_a_rename_needs_the_csrf_token(visitor):
    response = visitor().api("patch", "/api/me", {"username": "Night Owl"}, csrf=False)
    assert response.status_code == 403


def test_names_of_exactly_the_limits_are_kept():
    assert clean_display_name("ab") == "ab"
    assert clean_display_name("y" * 24) == "y" * 24
    with pytest.raises(InvalidInput):
        clean_display_name("y" * 25)
