"""End to end: real Chromium pages against the real ASGI app served by daphne.

Each browser context is one stranger (its own cookies, its own fake camera). The server
runs in a subprocess on the test database, so these tests use transactional_db: what
the browser writes is committed where the server, and then the test, can read it.
"""

import json
import os
import re
import shutil
import time
import urllib.request
from pathlib import Path
from datetime import timedelta
from uuid import UUID

import pytest
from django.conf import settings
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.utils import timezone

from chat.models import ChatParticipant, Visitor
from reports.models import Ban, Report
from whimsy_project.tests.servers import START_TIMEOUT, daphne, server_env

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
WAIT_MS = 15_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}
# Longer than WAIT_MS, so that a chat seen to end within a wait was not ended by the grace.
RESUME_GRACE_SECONDS = 25

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # requirements-dev.txt not installed
    sync_playwright = None

if sync_playwright is None or not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"browser tests need Playwright (requirements-dev.txt) and Debian's Chromium at {CHROMIUM}; not found",
        allow_module_level=True,
    )
# A ceiling, not a speed requirement: on a loaded machine a page may take seconds to react.
expect.set_options(timeout=WAIT_MS)

# getUserMedia as it behaves when the visitor has blocked the camera for the site.
DENY_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


@pytest.fixture(scope="module")
def daphne_server(request, django_db_setup):
    """daphne serving whimsy_project.asgi on the test database; yields its base URL. Its log is
    one per test module (browser-server-<module>.log), so a later module keeps an earlier one's."""
    ARTIFACTS.mkdir(exist_ok=True)
    env = server_env(RESUME_GRACE_SECONDS=str(RESUME_GRACE_SECONDS))
    with daphne(env, ARTIFACTS / f"browser-server-{request.module.__name__}.log") as url:
        yield url


def _wait_until_server_is_idle(url: str) -> None:
    """After the pages close, wait for the server to finish with them: every closed socket
    has left its room (so flushing the tables does not race a leave) and has been written
    off the shared presence set (so the tests that run next do not count our visitors). A
    chat whose page could not say goodbye ends when the grace is over."""
    deadline = time.monotonic() + RESUME_GRACE_SECONDS + START_TIMEOUT
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/api/presence", timeout=2) as response:
            online = json.load(response)["online"]
        if online == 0 and not ChatParticipant.objects.filter(left_at__isnull=True).exists():
            return
        time.sleep(0.2)
    pytest.fail("the server still had the closed pages' visitors online or in rooms")


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread, which makes Django
    # refuse ORM calls here; the test code itself is synchronous, so they are safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def stranger(request, browser, daphne_server, transactional_db):
    """stranger(name) -> a page in its own browser context: a different anonymous visitor."""
    contexts = []

    def open_stranger(name: str, *, viewport=DESKTOP, deny_camera: bool = False):
        context = browser.new_context(base_url=daphne_server, viewport=viewport)
        if deny_camera:
            context.add_init_script(DENY_CAMERA)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.name = name
        page.console_messages = []
        page.on("console", lambda message: page.console_messages.append(message.text))
        page.on("pageerror", lambda error: page.console_messages.append(f"page error: {error}"))
        return page

    yield open_stranger
    for context in contexts:
        for page in list(context.pages):
            # What each page logged, for whoever has to debug a failure.
            (ARTIFACTS / f"console-{request.node.name}-{page.name}.log").write_text("\n".join(page.console_messages))
            page.close()  # as a person closes a tab: the page ends its chat
        context.close()
    _wait_until_server_is_idle(daphne_server)


# --- steps ----------------------------------------------------------------------------


def open_home(page):
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Talk to a stranger.")


def press_start(page, *, mode="text", interests=()):
    """From the home page: choose, agree to the rules the first time, Start. Returns when /chat/ runs."""
    page.locator(f'label.mode:has(input[value="{mode}"])').click()
    for interest in interests:
        page.fill("#interest-input", interest)
        page.keyboard.press("Enter")
    if page.locator("#rules").is_visible():
        page.check("#agree")
    page.click("#start-button")
    page.wait_for_url("**/chat/")


def expect_chatting(page):
    expect(page.locator("#chat")).to_have_attribute("data-state", "chatting", timeout=WAIT_MS)
    expect(page.locator("#log")).to_contain_text("You're now chatting with a random stranger. Say hi!")


def expect_partner_connected(page):
    """The stranger's socket is up (partner_connected), so typing and signals reach them."""
    expect(page.locator("#chat")).to_have_attribute("data-partner", "connected")


def expect_connected_to_a_room(page):
    """The page has its room and that room's socket is up (Start or Next is complete)."""
    expect(page.locator('#chat[data-socket="open"]:not([data-room=""])')).to_have_count(1)


def pair(a, b, *, mode="text") -> None:
    """A and B start one after the other and are matched."""
    open_home(a)
    open_home(b)
    press_start(a, mode=mode)
    expect(a.locator("#chat")).to_have_attribute("data-state", "searching")
    press_start(b, mode=mode)
    expect_chatting(b)
    expect_chatting(a)
    expect_partner_connected(a)
    expect_partner_connected(b)


def send(page, text):
    page.fill("#message-input", text)
    page.keyboard.press("Enter")


def record_delivery_states(page):
    """Remember every delivery state each of my messages shows, in order."""
    page.evaluate("""() => {
        window.deliveryStates = [];
        new MutationObserver((changes) => {
            for (const change of changes) {
                const item = change.target;
                if (item.classList && item.classList.contains("me")) window.deliveryStates.push(item.dataset.status);
            }
        }).observe(document.getElementById("log"), {subtree: true, attributes: true, attributeFilter: ["data-status"]});
    }""")


def remote_frame_width(page) -> int:
    return page.evaluate("() => document.getElementById('remote-video').videoWidth")


def visitor_id(page) -> UUID:
    """The anonymous id in this context's signed session cookie."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    return UUID(SessionStore(session_key=cookie["value"])["user_id"])


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


# --- the tests ------------------------------------------------------------------------


def test_two_strangers_see_each_other_online_meet_and_talk(stranger):
    a, b = stranger("A"), stranger("B", viewport=PHONE)
    open_home(a)
    open_home(b)
    # Both of them have a live presence socket, so each counts at least the two.
    for page in (a, b):
        page.wait_for_function(
            "() => Number(document.querySelector('[data-online-count]').dataset.online) >= 2", timeout=WAIT_MS
        )
        expect(page.locator("[data-online-count]")).to_contain_text("people online now")
    screenshot(a, "home-desktop.png")
    screenshot(b, "home-phone.png")

    started = time.perf_counter()
    press_start(a, interests=["Board games"])
    expect(a.locator("#log")).to_contain_text("Looking for someone...")
    press_start(b, interests=["board games", "jazz"])
    expect_chatting(b)
    expect_chatting(a)
    expect_partner_connected(a)
    print(f"\nStart to matched: {time.perf_counter() - started:.2f} s (two Starts, second one to both chatting)")
    expect(a.locator("#log")).to_contain_text("You both like board games.")

    record_delivery_states(a)
    a.fill("#message-input", "hello from A")
    a.locator("#message-input").dispatch_event("input")
    expect(b.locator("#typing")).to_be_visible()
    expect(b.locator("#typing")).to_have_text("Stranger is typing…")
    a.keyboard.press("Enter")

    mine = a.locator(".msg.me").last
    expect(mine.locator(".text")).to_have_text("hello from A")
    expect(mine).to_have_attribute("data-status", "sent")
    assert a.evaluate("() => window.deliveryStates") == ["sending", "sent"]
    expect(b.locator(".msg.stranger .text")).to_have_text(["hello from A"])
    expect(b.locator("#typing")).to_be_hidden()

    b.fill("#message-input", "hi A,")
    b.keyboard.press("Shift+Enter")
    b.keyboard.type("B here")
    b.keyboard.press("Enter")
    expect(a.locator(".msg.stranger .text")).to_have_text(["hi A,\nB here"])
    expect(b.locator(".msg.me").last).to_have_attribute("data-status", "sent")

    # Still counted after moving from the home page to the chat page.
    for page in (a, b):
        page.wait_for_function(
            "() => Number(document.querySelector('[data-online-count]').dataset.online) >= 2", timeout=WAIT_MS
        )
    screenshot(a, "chat-desktop.png")
    screenshot(b, "chat-phone.png")
    assert not [m for m in a.console_messages + b.console_messages if m.startswith("page error")]


def test_both_strangers_turn_video_on_and_see_each_other(stranger):
    a, b = stranger("A"), stranger("B")
    pair(a, b)

    started = time.perf_counter()
    a.click("#video-button")
    b.click("#video-button")
    for page in (a, b):
        expect(page.locator("#video")).to_have_attribute("data-connection", "connected", timeout=WAIT_MS)
    for page in (a, b):
        page.wait_for_function("() => document.getElementById('remote-video').videoWidth > 0", timeout=WAIT_MS)
    print(f"\nStart video to first remote frame: {time.perf_counter() - started:.2f} s")
    assert remote_frame_width(a) > 0 and remote_frame_width(b) > 0
    expect(a.locator("#video-button")).to_have_text("Stop video")
    screenshot(a, "video-desktop.png")

    a.click("#video-button")
    expect(a.locator("#video")).to_be_hidden()
    expect(b.locator(".toast")).to_contain_text("The stranger turned off video.")
    b.wait_for_function("() => document.getElementById('remote-video').srcObject === null")


def test_two_strangers_who_chose_video_are_connected_without_pressing_anything(stranger):
    a, b = stranger("A"), stranger("B", viewport=PHONE)
    pair(a, b, mode="video")

    for page in (a, b):
        expect(page.locator("#video")).to_have_attribute("data-connection", "connected", timeout=WAIT_MS)
        page.wait_for_function("() => document.getElementById('remote-video').videoWidth > 0", timeout=WAIT_MS)
    b.click("#mute-mic")
    expect(b.locator("#mute-mic")).to_have_attribute("aria-pressed", "true")
    assert b.evaluate("() => document.getElementById('local-video').srcObject.getAudioTracks()[0].enabled") is False
    screenshot(b, "video-phone.png")


def test_a_stranger_without_camera_access_is_told_and_keeps_chatting(stranger):
    a, b = stranger("A"), stranger("B", deny_camera=True)
    pair(a, b)

    b.click("#video-button")
    expect(b.locator(".toast.error")).to_contain_text("Camera or microphone access was denied")
    expect(b.locator("#video")).to_be_hidden()
    expect(b.locator("#video-button")).to_have_text("Start video")

    send(a, "can you see me?")
    expect(b.locator(".msg.stranger .text")).to_have_text(["can you see me?"])
    send(b, "no camera here, text is fine")
    expect(a.locator(".msg.stranger .text")).to_have_text(["no camera here, text is fine"])


def test_next_leaves_the_stranger_and_finds_someone_new(stranger):
    a, b, c = stranger("A"), stranger("B"), stranger("C")
    pair(a, b)

    a.click("#next-button")
    expect(b.locator("#log")).to_contain_text("Stranger has disconnected.")
    expect(b.locator("#chat")).to_have_attribute("data-state", "partner-left")
    expect(b.locator("#message-input")).to_be_disabled()
    expect(a.locator("#chat")).to_have_attribute("data-state", "searching")
    expect(a.locator("#log")).to_contain_text("Looking for someone...")
    expect_connected_to_a_room(a)
    screenshot(a, "chat-searching-desktop.png")
    screenshot(b, "chat-partner-left-desktop.png")

    open_home(c)
    press_start(c)
    expect_chatting(c)
    expect_chatting(a)
    send(c, "hi, I'm C")
    expect(a.locator(".msg.stranger .text")).to_have_text(["hi, I'm C"])


def test_escape_once_asks_and_twice_skips(stranger):
    a, b = stranger("A"), stranger("B")
    pair(a, b)

    a.keyboard.press("Escape")
    expect(a.locator("#end-button")).to_have_text("Really?")
    a.keyboard.press("Escape")
    expect(b.locator("#log")).to_contain_text("Stranger has disconnected.")
    expect(a.locator("#chat")).to_have_attribute("data-state", "searching")
    expect_connected_to_a_room(a)


def test_a_report_from_the_chat_reaches_the_moderators_with_the_transcript(stranger):
    a, b = stranger("A"), stranger("B", viewport=PHONE)
    pair(a, b)
    send(a, "buy cheap stuff at spam.example")
    expect(b.locator(".msg.stranger .text")).to_have_text(["buy cheap stuff at spam.example"])

    b.click("#report-button")
    dialog = b.locator("#report-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Spam").check()
    dialog.locator("textarea").fill("Advertising in the first message.")
    screenshot(b, "report-dialog-phone.png")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator("[data-report-success]")).to_have_text("Thank you. Your report was sent to the moderators.")

    report = Report.objects.get()
    assert (report.reporter_id, report.reported_user_id) == (visitor_id(b), visitor_id(a))
    assert report.reason == "spam"
    assert report.details == "Advertising in the first message."
    assert "buy cheap stuff at spam.example" in str(report.evidence)


def test_a_network_blip_resumes_the_chat_and_brings_what_was_missed_once(stranger):
    a, b = stranger("A"), stranger("B")
    connections = []

    def through_proxy(page_side):
        server_side = page_side.connect_to_server()
        if not connections:  # the connection that will blip: its two ends drop separately
            server_side.on_close(lambda code, reason: None)
        connections.append((page_side, server_side))

    a.route_web_socket(re.compile(r"/ws/chat/"), through_proxy)
    pair(a, b)
    send(b, "before the blip")
    expect(a.locator(".msg.stranger .text")).to_have_text(["before the blip"])
    a.evaluate("""() => {
        window.connectionNotes = [];
        const banner = document.getElementById("connection");
        new MutationObserver(() => window.connectionNotes.push(banner.hidden ? "" : banner.textContent))
            .observe(banner, {attributes: true, childList: true});
    }""")

    page_side, server_side = connections[-1]
    server_side.close()  # the server sees the connection drop: A is reconnecting
    expect(b.locator("#partner-status")).to_have_text("Stranger's connection dropped, waiting...")
    send(b, "while you were away")  # stored; A's page has no socket to hear it on
    expect(b.locator(".msg.me").last).to_have_attribute("data-status", "sent")
    page_side.close(code=1001, reason="network blip")  # and then A's browser notices

    # Back in the same chat, with the message it missed fetched once (?after=), nothing twice.
    expect(a.locator(".msg.stranger .text")).to_have_text(["before the blip", "while you were away"])
    expect(a.locator("#chat")).to_have_attribute("data-socket", "open")
    expect(b.locator("#partner-status")).to_be_hidden()
    assert "Reconnecting..." in a.evaluate("() => window.connectionNotes")
    assert len(connections) >= 2, "A's page connected again"
    expect(a.locator("#connection")).to_be_hidden()
    send(a, "I'm back")
    expect(b.locator(".msg.stranger .text")).to_have_text(["I'm back"])
    for page in (a, b):
        expect(page.locator("#chat")).to_have_attribute("data-state", "chatting")


def test_a_banned_visitor_is_told_until_when(stranger):
    a = stranger("A")
    open_home(a)
    until = timezone.now() + timedelta(hours=24)
    Ban.objects.create(visitor=Visitor.objects.create(id=visitor_id(a)), reason="spam", expires_at=until)

    press_start(a)

    expect(a.locator("#chat")).to_have_attribute("data-state", "banned")
    expect(a.locator("#log")).to_contain_text(f"You are banned from Whimsy until {until:%Y-%m-%d %H:%M} UTC")
    expect(a.locator("#next-button")).to_be_disabled()


# --- blips, reloads and closed tabs (DESIGN.md §11) -------------------------------------


def route_room_socket(page) -> list:
    """Proxy the page's room sockets to the server; returns [(page side, server side), ...],
    newest last, so that a test can speak to the page as the server would."""
    connections = []

    def through_proxy(page_side):
        connections.append((page_side, page_side.connect_to_server()))

    page.route_web_socket(re.compile(r"/ws/chat/"), through_proxy)
    return connections


def test_the_page_says_while_the_strangers_connection_is_away_and_why_they_left(stranger):
    a, b = stranger("A"), stranger("B")
    connections = route_room_socket(a)
    pair(a, b)
    to_page = connections[-1][0]
    banner = a.locator("#partner-status")

    to_page.send(json.dumps({"type": "partner_reconnecting", "grace_seconds": 20}))
    expect(banner).to_have_text("Stranger's connection dropped, waiting...")
    expect(banner).to_have_attribute("role", "status")
    expect(a.locator("#chat")).to_have_attribute("data-state", "chatting")
    expect(a.locator("#message-input")).to_be_enabled()
    for scheme in ("light", "dark"):
        a.emulate_media(color_scheme=scheme)
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            a.set_viewport_size(viewport)
            screenshot(a, f"chat-partner-reconnecting-{name}-{scheme}.png")

    to_page.send(json.dumps({"type": "partner_resumed"}))
    expect(banner).to_be_hidden()
    expect_partner_connected(a)

    to_page.send(json.dumps({"type": "partner_reconnecting", "grace_seconds": 20}))
    to_page.send(json.dumps({"type": "partner_left", "reason": "lost"}))
    expect(a.locator("#log")).to_contain_text("Stranger has disconnected. Their connection dropped and did not come back.")
    expect(banner).to_be_hidden()
    expect(a.locator("#next-button")).to_have_text("New chat")


def test_a_page_reloaded_after_its_chat_ended_says_so_and_does_not_look_for_someone(stranger):
    a, b = stranger("A"), stranger("B")
    pair(a, b)
    b.click("#end-button")
    b.click("#end-button")
    expect(a.locator("#log")).to_contain_text("Stranger has disconnected.")

    a.reload()

    expect(a.locator("#chat")).to_have_attribute("data-state", "gone")
    expect(a.locator("#log")).to_have_text("Your chat has ended. Press New chat to meet someone new.")
    expect(a.locator("#next-button")).to_have_text("New chat")
    assert not ChatParticipant.objects.filter(user_id=visitor_id(a), left_at__isnull=True).exists()
    a.click("#next-button")
    expect(a.locator("#chat")).to_have_attribute("data-state", "searching")
    expect_connected_to_a_room(a)


def test_a_reload_the_page_cannot_recognise_ends_the_chat_and_the_reloaded_page_says_so(stranger):
    """The toolbar's reload button looks like a closed tab to the page (docs/decisions.md):
    the chat ends at once, and the reloaded page says so instead of looking for someone."""
    a, b = stranger("A"), stranger("B")
    pair(a, b)

    a.reload()

    expect(a.locator("#chat")).to_have_attribute("data-state", "gone")
    expect(a.locator("#log")).to_contain_text("This chat is gone: it ended while you were disconnected.")
    expect(a.locator("#log")).not_to_contain_text("Looking for someone")
    expect(b.locator("#log")).to_contain_text("Stranger has disconnected.")
    assert not ChatParticipant.objects.filter(user_id=visitor_id(a), left_at__isnull=True).exists()


def record_log(page):
    """Remember every line the conversation shows from now on, also those a later clear removes."""
    page.evaluate("""() => {
        window.logLines = [];
        new MutationObserver((changes) => {
            for (const change of changes) for (const node of change.addedNodes) window.logLines.push(node.textContent);
        }).observe(document.getElementById("log"), {childList: true});
        window.partnerNotes = [];
        const banner = document.getElementById("partner-status");
        new MutationObserver(() => window.partnerNotes.push(banner.hidden ? "" : banner.textContent))
            .observe(banner, {attributes: true, childList: true});
    }""")


def remote_video_time(page) -> float:
    return page.evaluate("() => document.getElementById('remote-video').currentTime")


def expect_video_flowing(page):
    """The stranger's picture is connected and moving on."""
    expect(page.locator("#video")).to_have_attribute("data-connection", "connected")
    shown = remote_video_time(page)
    page.wait_for_function(f"() => document.getElementById('remote-video').currentTime > {shown}")
    assert remote_frame_width(page) > 0


# Counts the ICE restarts a page asks of its calls.
COUNT_ICE_RESTARTS = """
window.iceRestarts = 0;
const restartIce = RTCPeerConnection.prototype.restartIce;
RTCPeerConnection.prototype.restartIce = function () {
  window.iceRestarts += 1;
  return restartIce.call(this);
};
"""


def test_a_stranger_offline_for_3_s_mid_video_chat_comes_back_and_both_go_on(stranger):
    a, b = stranger("A"), stranger("B", viewport=PHONE)
    for page in (a, b):
        page.add_init_script(COUNT_ICE_RESTARTS)
    pair(a, b, mode="video")
    for page in (a, b):
        expect_video_flowing(page)
        record_log(page)

    a.context.set_offline(True)
    expect(a.locator("#chat")).to_have_attribute("data-socket", "reconnecting")
    expect(a.locator("#connection")).to_have_text("Reconnecting...")
    expect(b.locator("#partner-status")).to_have_text("Stranger's connection dropped, waiting...")
    screenshot(b, "chat-partner-offline-phone.png")
    time.sleep(3)  # the outage itself, not a wait for the page
    a.context.set_offline(False)

    expect(a.locator("#chat")).to_have_attribute("data-socket", "open")
    expect(b.locator("#partner-status")).to_be_hidden()
    send(a, "back again")
    expect(b.locator(".msg.stranger .text")).to_have_text(["back again"])
    send(b, "welcome back")
    expect(a.locator(".msg.stranger .text")).to_have_text(["welcome back"])
    for page in (a, b):
        expect(page.locator("#chat")).to_have_attribute("data-state", "chatting")
        expect_video_flowing(page)
    assert "Stranger's connection dropped, waiting..." in b.evaluate("() => window.partnerNotes")
    # The side that made the offer restarted ICE once, by itself, and the call came through it.
    assert a.evaluate("() => window.iceRestarts") + b.evaluate("() => window.iceRestarts") == 1
    for page in (a, b):
        lines = page.evaluate("() => window.logLines")
        assert not [line for line in lines if "disconnected" in line or "gone" in line or "ended" in line], lines


def test_a_reload_from_the_keyboard_within_the_grace_resumes_the_chat(stranger):
    a, b = stranger("A"), stranger("B")
    pair(a, b)
    send(b, "before the reload")
    expect(a.locator(".msg.stranger .text")).to_have_text(["before the reload"])
    send(a, "mine, before the reload")
    expect(a.locator(".msg.me").last).to_have_attribute("data-status", "sent")
    record_log(b)
    room_id = a.locator("#chat").get_attribute("data-room")

    a.keyboard.press("F5")  # what the page sees of a reload from the keyboard; headless Chromium ignores the key
    a.reload()

    expect(a.locator("#chat")).to_have_attribute("data-state", "chatting")
    expect(a.locator("#chat")).to_have_attribute("data-room", room_id)
    expect(a.locator("#log")).to_contain_text("You're back in your chat with the stranger.")
    expect(a.locator(".msg.stranger .text")).to_have_text(["before the reload"])
    expect(a.locator(".msg.me .text")).to_have_text(["mine, before the reload"])
    send(a, "after the reload")
    expect(b.locator(".msg.stranger .text")).to_have_text(["mine, before the reload", "after the reload"])
    send(b, "still here")
    expect(a.locator(".msg.stranger .text")).to_have_text(["before the reload", "still here"])
    expect(b.locator("#partner-status")).to_be_hidden()
    assert not [line for line in b.evaluate("() => window.logLines") if "disconnected" in line]


def test_closing_the_tab_ends_the_strangers_chat_at_once(stranger):
    a, b = stranger("A"), stranger("B")
    pair(a, b)

    a.close()

    # At once: the grace (RESUME_GRACE_SECONDS) is longer than this wait (WAIT_MS).
    expect(b.locator("#log")).to_contain_text("Stranger has disconnected. They ended the chat.")
    expect(b.locator("#chat")).to_have_attribute("data-state", "partner-left")
    expect(b.locator("#partner-status")).to_be_hidden()


def test_a_video_call_that_cannot_connect_says_so_and_retries_with_fresh_ice_servers(stranger):
    a, b = stranger("A"), stranger("B")
    ice_requests = []

    def relay_only_first(route):
        ice_requests.append(route.request.url)
        if len(ice_requests) == 1:  # relay-only without a relay: ICE can only fail
            route.fulfill(json={"ice_servers": [], "ice_transport_policy": "relay"})
        else:
            route.continue_()

    a.route("**/api/chat/ice-servers", relay_only_first)
    pair(a, b, mode="video")

    expect(a.locator("#video-status-text")).to_have_text("The video could not connect.", timeout=40_000)
    expect(a.locator(".toast.error")).to_contain_text("The video could not connect")
    retry = a.get_by_role("button", name="Retry video")
    expect(retry).to_be_visible()
    screenshot(a, "video-failed-desktop.png")
    retry.click()

    for page in (a, b):
        expect(page.locator("#video")).to_have_attribute("data-connection", "connected")
    expect(retry).to_be_hidden()
    assert len(ice_requests) == 2


def test_the_report_page_sets_itself_up_and_asks_for_a_chat_first(stranger):
    a = stranger("A")
    a.goto("/report/")

    expect(a.locator("#report-no-room")).to_be_visible()
    expect(a.locator("[data-report-form]")).to_be_hidden()
    a.goto(f"/report/?room={UUID(int=1)}")
    expect(a.locator("[data-report-form]")).to_be_visible()
    a.locator("[data-report-form]").get_by_role("button", name="Send report").click()
    expect(a.locator("[data-report-error]")).to_have_text("Please choose what happened.")
    assert not [m for m in a.console_messages if m.startswith("page error")]
