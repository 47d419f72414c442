"""End to end: three Chromium visitors share a mood room (chat, reply, react, edit, typing),
and a fourth finds it full and lands in "Calm 2". Real pages against daphne, as in
chat/tests/test_browser.py, whose server and browser fixtures this uses."""

import re

import pytest
from playwright.sync_api import expect

from chat.tests.test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    PHONE,
    browser,
    daphne_server,
    screenshot,
    stranger,
)
from moodrooms.models import ChatSession
from moodrooms.tests.factories import CALM_ID

pytestmark = pytest.mark.browser


def join_calm(page):
    page.goto("/rooms/")
    expect(page.locator('[data-category="calm"] [data-count]')).to_contain_text("here")
    page.locator('[data-category="calm"] [data-join]').click()
    page.wait_for_url(re.compile(r"/rooms/[0-9a-f-]+/$"))
    expect(page.locator("#room-name")).not_to_have_text("Mood room")


def message(page, text):
    """The message whose text is exactly `text` (not a reply quoting it)."""
    return page.locator("#log .rmsg").filter(has=page.locator(".rmsg-body").get_by_text(text, exact=True))


def send(page, text):
    page.fill("#message-input", text)
    page.keyboard.press("Enter")


def test_three_people_share_a_mood_room_and_a_fourth_lands_in_calm_2(stranger):
    ChatSession.objects.filter(id=CALM_ID).update(max_participants=3)
    ada, bo, cy = stranger("ada"), stranger("bo"), stranger("cy", viewport=PHONE)
    cy.emulate_media(color_scheme="dark")
    for page in (ada, bo, cy):
        join_calm(page)
        expect(page.locator("#room-name")).to_have_text("Calm")
    for page in (ada, bo, cy):
        expect(page.locator("#member-list .member")).to_have_count(3)

    send(ada, "Hello everyone")
    for page in (bo, cy):
        expect(message(page, "Hello everyone")).to_have_count(1)

    # Typing is shown to the others, by name.
    bo.fill("#message-input", "Hi")
    bo.locator("#message-input").press_sequentially(" Ada")
    expect(ada.locator("#typing")).to_contain_text("is typing")
    expect(bo.locator("#typing")).to_be_hidden()

    # A reply quotes what it answers.
    message(bo, "Hello everyone").get_by_role("button", name="Reply", exact=True).click()
    expect(bo.locator("#composing")).to_contain_text("Replying to")
    bo.fill("#message-input", "Hi Ada, welcome")
    bo.keyboard.press("Enter")
    reply = message(cy, "Hi Ada, welcome")
    expect(reply.locator(".quote")).to_contain_text("Hello everyone")

    # Reactions toggle, and everyone sees the count.
    message(cy, "Hello everyone").get_by_role("button", name="React", exact=True).click()
    message(cy, "Hello everyone").get_by_role("button", name="React with ❤️").click()
    chip = message(ada, "Hello everyone").locator('.chip[data-emoji="❤️"]')
    expect(chip).to_have_text("❤️ 1")
    expect(chip).to_have_attribute("aria-pressed", "false")
    chip.click()
    expect(chip).to_have_text("❤️ 2")
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(message(bo, "Hello everyone").locator('.chip[data-emoji="❤️"]')).to_have_text("❤️ 2")
    message(cy, "Hello everyone").locator('.chip[data-emoji="❤️"]').click()
    expect(chip).to_have_text("❤️ 1")

    # The author edits; the others see the new text marked edited. Others get no Edit.
    expect(message(bo, "Hello everyone").get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    message(ada, "Hello everyone").get_by_role("button", name="Edit", exact=True).click()
    ada.fill("#message-input", "Hello everyone, nice to meet you")
    ada.keyboard.press("Enter")
    edited = message(bo, "Hello everyone, nice to meet you")
    expect(edited.locator(".edited")).to_have_text("edited")
    screenshot(ada, "moodroom-desktop-light.png")
    screenshot(cy, "moodroom-phone-dark.png")

    # A fourth finds this room full, and joining the mood puts them in Calm 2.
    dee = stranger("dee")
    dee.goto(f"/rooms/{CALM_ID}/")
    expect(dee.locator("#room-ended-text")).to_have_text("You are not in this room.")
    dee.get_by_role("button", name="Join this room").click()
    expect(dee.locator("#room-ended-text")).to_have_text("This room is full.")
    join_calm(dee)
    expect(dee.locator("#room-name")).to_have_text("Calm 2")
    expect(dee.locator("#member-list .member")).to_have_count(1)
    screenshot(dee, "moodroom-calm-2.png")

    # Leave: the others see them go.
    bo.get_by_role("button", name="Leave").click()
    bo.wait_for_url("**/rooms/")
    expect(ada.locator("#member-list .member")).to_have_count(2)
    expect(ada.locator("#log")).to_contain_text("left")
    assert ARTIFACTS.exists()
