"""While PostgreSQL or Redis is unreachable, HTTP calls get the JSON 503 `service_unavailable`
(never Django's HTML 500) and sockets an `error` frame; a bug (not an outage) stays a 500."""

import pytest
from django.db import IntegrityError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from chat import message_writer
from chat.models import ChatMessage
from chat.tests.sockets import pair, receive
from matchmaking import apis as matchmaking_apis


@pytest.mark.parametrize("outage", [OperationalError("server closed the connection"), RedisConnectionError("refused")])
def test_an_http_call_during_an_outage_gets_the_json_503(visitor, monkeypatch, outage):
    alice = visitor()

    def fail(**kwargs):
        raise outage

    monkeypatch.setattr(matchmaking_apis, "find_available_room", fail)
    response = alice.api("post", "/api/chat/start")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "service_unavailable"


def test_a_bug_is_not_dressed_up_as_an_outage(visitor, monkeypatch):
    alice = visitor()

    def fail(**kwargs):
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(matchmaking_apis, "find_available_room", fail)
    alice.raise_request_exception = False
    assert alice.api("post", "/api/chat/start").status_code == 500


@pytest.mark.django_db(transaction=True)
async def test_a_socket_message_during_an_outage_gets_an_error_frame_and_the_socket_stays(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    real_store = message_writer._store_in_writer_thread

    async def database_down(store, messages):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(message_writer, "_store_in_writer_thread", database_down)
    await alice_socket.send_json_to({"type": "message", "text": "hello?", "client_id": "o-1"})

    error = await receive(alice_socket)
    assert error == {"type": "error", "code": "service_unavailable", "detail": error["detail"], "client_id": "o-1"}

    monkeypatch.setattr(message_writer, "_store_in_writer_thread", real_store)  # the database is back
    await alice_socket.send_json_to({"type": "message", "text": "hello?", "client_id": "o-1"})
    assert (await receive(bob_socket))["message"]["client_id"] == "o-1"
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 1
