"""GET /api/chat/ice-servers for group voice: a mood room's members get STUN/TURN and the
relay policy like 1:1 callers; someone who left the room does not."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_members_get_turn_credentials_and_the_relay_policy_until_they_leave(visitor, settings):
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    settings.TURN_SECRET = "s3cret"
    settings.ICE_TRANSPORT_POLICY = "relay"
    alice = visitor()
    assert alice.get("/api/chat/ice-servers").json()["error"]["code"] == "not_participant"

    session = alice.api("post", "/api/sessions/join", {"category": "calm"}).json()["session"]
    body = alice.get("/api/chat/ice-servers").json()
    assert body["ice_transport_policy"] == "relay"
    (turn,) = body["ice_servers"]
    assert turn["urls"] == ["turn:turn.example.org:3478"] and turn["username"].endswith(f":{alice.user_id}")

    alice.api("post", f"/api/sessions/{session['id']}/leave")
    assert alice.get("/api/chat/ice-servers").status_code == 403
