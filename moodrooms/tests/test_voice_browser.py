"""End to end: group voice in a mood room. Chromium contexts with fake microphones join one
room and voice; each page hears the others (getStats bytesReceived grows), a mute stops that
member's audio, leaving voice closes only that member's connections, and a latecomer
connects to everyone in voice. Real pages against daphne (chat/tests/test_browser.py)."""

import re
import time

import pytest
from playwright.sync_api import expect

from chat.tests.test_browser import (  # noqa: F401 (fixtures)
    WAIT_MS,
    browser,
    daphne_server,
    screenshot,
    stranger,
)
from moodrooms.tests.test_browser import join_calm

pytestmark = pytest.mark.browser

# Every RTCPeerConnection a page makes, so the test can read its stats (the page keeps its own).
RECORD_CONNECTIONS = """
window.__connections = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Native {
  constructor(...args) {
    super(...args);
    window.__connections.push(this);
  }
};
"""

# user id -> {state, received, sent} for each remote member this page plays audio from,
# matched through the track its <audio> element plays.
AUDIO_BY_MEMBER = """
async () => {
  const result = {};
  for (const player of document.querySelectorAll("audio[data-user-id]")) {
    const track = player.srcObject && player.srcObject.getAudioTracks()[0];
    const pc = window.__connections.find((c) => c.getReceivers().some((r) => r.track === track));
    if (!pc) continue;
    let received = 0, sent = 0;
    (await pc.getStats()).forEach((report) => {
      if (report.kind !== "audio") return;
      if (report.type === "inbound-rtp") received += report.bytesReceived || 0;
      if (report.type === "outbound-rtp") sent += report.bytesSent || 0;
    });
    result[player.dataset.userId] = { state: pc.connectionState, received, sent };
  }
  return result;
}
"""

# Each open connection's cap on our Opus sender, and whether the other side asked for DTX.
SENDER_LIMITS = """
() => window.__connections.filter((c) => c.connectionState !== "closed").map((c) => ({
  max_bitrate: c.getSenders()[0].getParameters().encodings[0].maxBitrate,
  dtx: /^a=fmtp:\\d+ .*usedtx=1/m.test(c.remoteDescription.sdp),
}))
"""

OPEN_CONNECTIONS = "() => window.__connections.filter((c) => c.connectionState !== 'closed').length"


def voice_page(stranger, name):
    page = stranger(name)
    page.context.add_init_script(RECORD_CONNECTIONS)
    join_calm(page)
    page.user_id = page.evaluate("async () => (await (await fetch('/api/me')).json()).user_id")
    return page


def audio(page) -> dict:
    return page.evaluate(AUDIO_BY_MEMBER)


def wait_for_audio_from(page, user_ids, *, timeout_s=WAIT_MS / 1000):
    """Until this page receives audio bytes from each of user_ids over a connected connection."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = audio(page)
        if all(uid in got and got[uid]["state"] == "connected" and got[uid]["received"] > 0 for uid in user_ids):
            return got
        assert time.monotonic() < deadline, f"{page.name} never heard {user_ids}: {got}"
        page.wait_for_timeout(100)


def growth(page, seconds=1.5) -> dict:
    """How many bytes each connection received and sent over a while."""
    before = audio(page)
    page.wait_for_timeout(seconds * 1000)
    after = audio(page)
    return {
        uid: {key: after[uid][key] - before[uid][key] for key in ("received", "sent")}
        for uid in after
        if uid in before
    }


def member_item(page, user_id):
    return page.locator(f'#member-list .member[data-user-id="{user_id}"]')


def test_three_talk_one_mutes_one_leaves_and_a_latecomer_connects_to_all(stranger):
    ada, bo, cy = (voice_page(stranger, name) for name in ("ada", "bo", "cy"))
    trio = (ada, bo, cy)
    for page in trio:
        expect(page.locator("#member-list .member")).to_have_count(3)

    started = time.perf_counter()
    for page in trio:
        page.get_by_role("button", name="Join voice").click()
    for page in trio:
        wait_for_audio_from(page, [other.user_id for other in trio if other is not page])
    flowing = time.perf_counter() - started
    for page in trio:
        assert page.evaluate(OPEN_CONNECTIONS) == 2
        assert page.locator("audio[data-user-id]").count() == 2
        moving = growth(page)
        assert len(moving) == 2 and all(each["received"] > 0 and each["sent"] > 0 for each in moving.values()), moving
        expect(page.get_by_role("button", name="Leave voice")).to_be_visible()
        assert page.evaluate(SENDER_LIMITS) == [{"max_bitrate": 32000, "dtx": True}] * 2
    print(f"\nJoin voice (3 members) to audio flowing both ways on every page: {flowing:.2f} s; 2 connections per page")

    # Someone speaks (the fake microphone beeps): the others ring them by what they hear.
    expect(ada.locator("#member-list .member.speaking").first).to_be_visible(timeout=WAIT_MS)

    # cy mutes with M: everyone sees cy crossed; cy sends nothing any more.
    cy.locator("body").press("m")
    expect(cy.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    for page in trio:
        expect(member_item(page, cy.user_id)).to_have_class(re.compile(r"\bmuted\b"))
        expect(member_item(page, cy.user_id)).to_contain_text("in voice, muted")
    cy.wait_for_timeout(500)  # packets already on their way
    quiet = growth(cy)
    assert all(each["sent"] == 0 and each["received"] > 0 for each in quiet.values()), quiet
    assert growth(ada)[cy.user_id]["received"] == 0
    screenshot(ada, "voice-muted-member.png")
    cy.locator("body").press("m")
    for page in trio:
        expect(member_item(page, cy.user_id)).not_to_have_class(re.compile(r"\bmuted\b"))

    # A fourth joins later and connects to all three.
    dee = voice_page(stranger, "dee")
    started = time.perf_counter()
    dee.get_by_role("button", name="Join voice").click()
    wait_for_audio_from(dee, [page.user_id for page in trio])
    for page in trio:
        wait_for_audio_from(page, [dee.user_id])
        assert page.evaluate(OPEN_CONNECTIONS) == 3
    print(f"A fourth joining voice to hearing all three: {time.perf_counter() - started:.2f} s; 3 connections per page")

    # bo leaves voice: the others close bo's connection and keep theirs.
    bo.get_by_role("button", name="Leave voice").click()
    expect(bo.get_by_role("button", name="Join voice")).to_be_visible()
    assert bo.evaluate(OPEN_CONNECTIONS) == 0
    for page in (ada, cy, dee):
        expect(page.locator(f'audio[data-user-id="{bo.user_id}"]')).to_have_count(0)
        page.wait_for_function(f"() => ({OPEN_CONNECTIONS})() === 2")
        moving = growth(page)
        assert bo.user_id not in moving and len(moving) == 2, moving
        assert all(each["received"] > 0 for each in moving.values()), moving
    # Text chat went on throughout.
    bo.fill("#message-input", "still here in text")
    bo.keyboard.press("Enter")
    expect(ada.locator("#log")).to_contain_text("still here in text")


ICE_UFRAGS = """
() => window.__connections.filter((c) => c.connectionState !== "closed")
  .map((c) => /^a=ice-ufrag:(\\S+)/m.exec(c.remoteDescription.sdp)[1])
"""


def test_a_socket_blip_keeps_the_call_and_restarts_ice(stranger):
    ada, bo = voice_page(stranger, "ada"), stranger("bo")
    connections = []

    def through_proxy(page_side):
        server_side = page_side.connect_to_server()
        if not connections:  # the socket that will blip: its two ends drop separately
            server_side.on_close(lambda code, reason: None)
        connections.append((page_side, server_side))

    bo.route_web_socket(re.compile(r"/ws/sessions/"), through_proxy)
    bo.context.add_init_script(RECORD_CONNECTIONS)
    join_calm(bo)
    bo.user_id = bo.evaluate("async () => (await (await fetch('/api/me')).json()).user_id")
    for page in (ada, bo):
        page.get_by_role("button", name="Join voice").click()
    wait_for_audio_from(ada, [bo.user_id])
    wait_for_audio_from(bo, [ada.user_id])
    ufrags = {page.name: page.evaluate(ICE_UFRAGS) for page in (ada, bo)}

    page_side, server_side = connections[-1]
    server_side.close()  # the server sees bo's socket drop: bo stays in voice for the grace
    expect(member_item(ada, bo.user_id)).to_contain_text("reconnecting")
    page_side.close(code=1001, reason="network blip")  # and then bo's page notices

    # Back: the same connection on each side (no new one), with fresh ICE credentials.
    for page in (ada, bo):
        before = ufrags[page.name][0]
        restarted = f"() => {{ const now = ({ICE_UFRAGS})(); return now.length === 1 && now[0] !== {before!r}; }}"
        page.wait_for_function(restarted)
        assert page.evaluate("() => window.__connections.length") == 1
    expect(member_item(ada, bo.user_id)).not_to_contain_text("reconnecting")
    assert len(connections) >= 2, "bo's page connected again"
    assert all(each["received"] > 0 for each in growth(ada).values())
    assert all(each["received"] > 0 for each in growth(bo).values())
