"""/metrics is served to METRICS_ALLOWED_IPS or to the bearer of METRICS_TOKEN, else 403."""

import ipaddress

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

TOKEN = "a-long-enough-scrape-token"


def scrape(**headers):
    return Client().get("/metrics", HTTP_HOST="10.0.0.7:8000", **headers)


@pytest.fixture(autouse=True)
def no_redis(settings):
    settings.REDIS_URL = None  # the scrape's readiness gauge: only the database here


def test_by_default_nobody_may_scrape(settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = ""

    response = scrape()

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert b"whimsy_" not in response.content


def test_an_allowed_address_may_scrape(settings):
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network("127.0.0.0/8")]

    response = scrape(REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for series in ("whimsy_starts_total", "whimsy_open_sockets", "whimsy_http_request_duration_seconds"):
        assert f"# TYPE {series}" in text, series
    assert 'whimsy_ready{dependency="database"} 1.0' in text


def test_an_address_outside_the_list_may_not(settings):
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network("10.1.0.0/16")]

    assert scrape(REMOTE_ADDR="10.2.0.1").status_code == 403


def test_through_a_proxy_the_address_does_not_count(settings):
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network("127.0.0.0/8")]

    response = scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 403


def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = TOKEN

    assert scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403
    assert scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=TOKEN).status_code == 403
