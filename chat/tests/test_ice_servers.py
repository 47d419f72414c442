"""GET /api/chat/ice-servers: STUN/TURN for people in a chat, TURN REST API credentials."""

import base64
import hashlib
import hmac
import runpy
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "whimsy_project" / "settings.py"


@pytest.fixture
def chatting(visitor):
    alice, bob = visitor(), visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]
    bob.api("post", "/api/chat/start")
    return alice, bob, room_id


def test_turn_credentials_verify_with_the_shared_secret(chatting, settings):
    settings.ICE_SERVERS = [{"urls": "stun:stun.example.org:3478"}]
    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]
    settings.TURN_SECRET = "s3cret"
    settings.TURN_TTL = 600
    alice, bob, room_id = chatting

    body = alice.get("/api/chat/ice-servers").json()

    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    assert turn["urls"] == settings.TURN_URLS
    expiry, user_id = turn["username"].split(":")
    assert user_id == alice.user_id
    assert 590 <= int(expiry) - time.time() <= 600
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected
    assert body["ice_transport_policy"] == "all"


def test_the_relay_policy_is_passed_on(chatting, settings):
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    settings.TURN_SECRET = "s3cret"
    settings.ICE_TRANSPORT_POLICY = "relay"
    alice, bob, room_id = chatting
    assert alice.get("/api/chat/ice-servers").json()["ice_transport_policy"] == "relay"


def test_the_default_names_no_public_server(chatting):
    alice, bob, room_id = chatting
    assert alice.get("/api/chat/ice-servers").json() == {"ice_servers": [], "ice_transport_policy": "all"}


def test_refused_outside_an_active_room(visitor):
    alice = visitor()
    nowhere = alice.get("/api/chat/ice-servers")
    assert (nowhere.status_code, nowhere.json()["error"]["code"]) == (403, "not_participant")
    alice.api("post", "/api/chat/start")  # waiting: no partner yet
    waiting = alice.get("/api/chat/ice-servers")
    assert waiting.status_code == 403


def test_good_ice_settings_load(monkeypatch):
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv("ICE_SERVERS", '[{"urls": ["turn:t.example.org"], "username": "u", "credential": "c"}]')
    monkeypatch.setenv("ICE_TRANSPORT_POLICY", "relay")
    loaded = runpy.run_path(str(SETTINGS_FILE))
    assert loaded["ICE_TRANSPORT_POLICY"] == "relay" and loaded["ICE_SERVERS"][0]["username"] == "u"
