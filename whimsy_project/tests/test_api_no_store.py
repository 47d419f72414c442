"""Every JSON API response, answer or error, is sent with `Cache-Control: no-store`: it is one
visitor's live state, which no shared cache nor the back button may replay. Pages are not."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "") and "private" in response["Cache-Control"]


def test_answers_and_errors_of_the_api_are_never_stored(visitor):
    alice = visitor()

    responses = [
        alice.get("/api/me"),
        alice.get("/api/sessions"),
        Client().get("/api/me"),  # 403 no_session
        alice.post("/api/chat/start", data=json.dumps({"nope": 1}), content_type="application/json"),
        alice.get("/api/no-such-endpoint"),
    ]

    assert [response.status_code for response in responses][:3] == [200, 200, 403]
    assert [no_store(response) for response in responses] == [True] * len(responses)


def test_a_page_is_not_marked_by_the_api_rule(visitor):
    assert not no_store(visitor().get("/rooms/"))
