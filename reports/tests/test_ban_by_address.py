"""A ban follows the hashed client address; X-Forwarded-For counts only behind trusted proxies."""

import uuid

import pytest

from chat.identity import hash_ip
from chat.models import Visitor
from reports.models import Ban
from reports.services import ban_visitor

pytestmark = pytest.mark.django_db(transaction=True)


def arriving_from(visitor, forwarded_for: str):
    client = visitor()
    client.defaults["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def start(client):
    return client.api("post", "/api/chat/start")


def test_behind_one_proxy_the_forwarded_address_is_banned(visitor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    offender = arriving_from(visitor, "203.0.113.5")
    start(offender)

    ban = ban_visitor(visitor_id=uuid.UUID(offender.user_id), duration=None, by=None)

    assert ban.ip_hash == hash_ip("203.0.113.5") and "203.0.113.5" not in ban.ip_hash
    same_address_new_cookie = arriving_from(visitor, "203.0.113.5")
    assert start(same_address_new_cookie).json()["error"]["code"] == "banned"
    # the client's own claim before the proxy's entry does not help it
    assert start(arriving_from(visitor, "198.51.100.1, 203.0.113.5")).status_code == 403
    assert start(arriving_from(visitor, "198.51.100.7")).status_code == 200


def test_without_trusted_proxies_a_forged_header_neither_escapes_nor_frames(visitor, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    offender = arriving_from(visitor, "203.0.113.5")
    start(offender)

    ban = ban_visitor(visitor_id=uuid.UUID(offender.user_id), duration=None, by=None)

    # the socket address (the test client's 127.0.0.1) is what was hashed, not the header
    assert ban.ip_hash == hash_ip("127.0.0.1")
    assert start(arriving_from(visitor, "198.51.100.7")).json()["error"]["code"] == "banned"


def test_no_address_is_stored_in_the_clear(visitor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    start(arriving_from(visitor, "203.0.113.9"))
    stored = list(Visitor.objects.values_list("ip_hash", flat=True)) + list(Ban.objects.values_list("ip_hash", flat=True))
    assert stored and all("203.0.113.9" not in value for value in stored)
