"""The API never acts for an identity invented on the fly: without the session cookie that
GET / sets (or with one whose signature fails), a call gets 403 `no_session`."""

import json

import pytest
from django.test import Client

from chat.models import Visitor

pytestmark = pytest.mark.django_db


def start(client: Client, **cookies):
    for name, value in cookies.items():
        client.cookies[name] = value
    return client.post("/api/chat/start", data=json.dumps({}), content_type="application/json")


def test_a_call_without_a_session_cookie_is_refused_and_creates_nobody():
    response = start(Client())

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_session"
    assert not Visitor.objects.exists()


def test_a_session_cookie_whose_signature_fails_is_no_session_either(visitor):
    forged = visitor().cookies["sessionid"].value[:-4] + "AAAA"

    response = start(Client(), sessionid=forged)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_session"


def test_a_read_without_a_session_is_refused_too():
    response = Client().get("/api/me")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_session"


def test_the_session_from_the_home_page_is_served(visitor):
    alice = visitor()

    response = alice.api("post", "/api/chat/start")

    assert response.status_code == 200
    assert Visitor.objects.filter(id=alice.user_id).exists()
