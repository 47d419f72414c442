"""The pages people use, rendered by Django: what each contains, the cookies and headers they set."""

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"
PAGE_BUDGET_BYTES = 100_000


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def test_it_gives_a_first_visitor_an_identity_and_a_csrf_cookie_on_the_home_page(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"
    # The JS API client reads this cookie to send X-CSRFToken, so it must not be HttpOnly.
    assert response.cookies["csrftoken"].value
    assert not response.cookies["csrftoken"]["httponly"]
    uuid.UUID(client.session["user_id"])


@pytest.mark.parametrize("path", ["/chat/", "/report/"])
def test_it_sets_the_identity_and_csrf_cookies_on_every_page(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "sessionid" in response.cookies and "csrftoken" in response.cookies


def test_it_explains_whimsy_and_offers_interests_mode_rules_and_start_on_the_home_page(client):
    html = client.get("/").content.decode()

    assert "<h1>Talk to a stranger.</h1>" in html
    assert "one-to-one chat, by text or video" in html
    assert "data-online-count" in html
    assert 'name="mode" value="text" checked' in html and 'name="mode" value="video"' in html
    assert f'id="interest-input" type="text" maxlength="{settings.MAX_INTEREST_LENGTH}"' in html
    assert f'data-max-interests="{settings.MAX_INTERESTS}"' in html
    assert "You must be 18 or older." in html
    assert 'id="agree"' in html
    assert ">Start chatting</button>" in html
    assert 'src="/static/js/home.js"' in html and 'type="module"' in html


def test_it_renders_the_chat_page_with_its_controls_and_the_report_dialog(client):
    html = client.get("/chat/").content.decode()

    assert 'id="message-input" rows="1" maxlength="2000"' in html
    for control in ('id="next-button"', 'id="end-button"', 'id="video-button"', 'id="report-button"',
                    'id="send-button"', 'id="mute-mic"', 'id="mute-camera"'):
        assert control in html
    assert 'id="remote-video" autoplay playsinline' in html
    assert 'id="local-video" class="local-video" autoplay playsinline muted' in html
    assert '<dialog id="report-dialog"' in html and 'value="harassment"' in html
    assert 'src="/static/js/chat.js"' in html


def test_it_offers_every_report_reason_with_its_label(client):
    html = client.get("/report/").content.decode()

    for value, label in [("spam", "Spam"), ("harassment", "Harassment"), ("sexual", "Nudity or sexual content"),
                         ("underage", "Underage user"), ("hate", "Hate speech"), ("other", "Other")]:
        assert f'name="reason" value="{value}" required> {label}</label>' in html
    assert 'name="details" rows="4" maxlength="1000"' in html


def test_it_prefills_the_report_form_with_the_room_from_the_link(client):
    room_id = uuid.uuid4()

    html = client.get(f"/report/?room={room_id}").content.decode()

    assert f'name="room_id" value="{room_id}"' in html


def test_it_ignores_a_room_parameter_that_is_not_a_uuid(client):
    html = client.get("/report/?room=<script>").content.decode()

    assert 'name="room_id" value=""' in html
    assert "<script>" not in html.split("<main")[1].split("</main>")[0]


@pytest.mark.parametrize("path", ["/", "/chat/", "/report/"])
def test_it_extends_the_base_layout_and_sends_strict_security_headers(client, path):
    response = client.get(path)
    html = response.content.decode()

    assert '<a class="skip-link" href="#main">Skip to content</a>' in html
    assert '<meta name="viewport" content="width=device-width' in html
    assert 'href="/static/css/whimsy.css"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "camera=(self)" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/", "/chat/", "/report/"])
def test_it_refuses_to_post_to_a_page(path):
    assert Client().post(path).status_code == 405


def _static_files_loaded_by(html: str) -> set[Path]:
    """The CSS the page links and every JS module its entry scripts import, directly or not."""
    found = {STATIC / href for href in re.findall(r'<link rel="stylesheet" href="/static/([^"]+)"', html)}
    pending = [STATIC / src for src in re.findall(r'<script type="module" src="/static/([^"]+)"', html)]
    while pending:
        module = pending.pop()
        if module in found:
            continue
        found.add(module)
        imports = re.findall(r'^(?:import|export) .*? from "(\./[^"]+)";', module.read_text(), flags=re.M | re.S)
        pending.extend((module.parent / target).resolve() for target in imports)
    return found


@pytest.mark.parametrize("path", ["/", "/chat/", "/report/"])
def test_it_keeps_each_page_with_the_css_and_js_it_loads_under_the_weight_budget(client, path):
    html = client.get(path).content.decode()
    assets = _static_files_loaded_by(html)

    weight = len(html.encode()) + sum(asset.stat().st_size for asset in assets)
    print(f"page weight {path}: {weight} B (HTML + {len(assets)} CSS/JS files) before compression")
    assert STATIC / "css" / "whimsy.css" in assets and any(asset.suffix == ".js" for asset in assets)
    assert weight < PAGE_BUDGET_BYTES
