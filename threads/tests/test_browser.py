"""End to end: two strangers keep in touch and go on talking in their thread, in real Chromium
pages against daphne (the fixtures of chat/tests/test_browser.py)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.utils import timezone

from chat.models import Visitor
from chat.tests.test_browser import (  # noqa: F401 - fixtures
    WAIT_MS,
    browser,
    daphne_server,
    expect,
    pair,
    screenshot,
    stranger,
    visitor_id,
)
from reports.models import Report
from threads.models import ChatThread
from threads.services import thread_message_post

pytestmark = pytest.mark.browser


def open_thread(page):
    """Click "Open your thread" on the chat page: the thread opens in a new page of this stranger."""
    with page.context.expect_page() as opened:
        page.click("#thread-link")
    thread_page = opened.value
    thread_page.name = f"{page.name}-thread"
    thread_page.console_messages = []
    thread_page.on("console", lambda message: thread_page.console_messages.append(message.text))
    thread_page.on("pageerror", lambda error: thread_page.console_messages.append(f"page error: {error}"))
    expect(thread_page.locator('#thread[data-socket="open"]')).to_have_count(1)
    return thread_page


def messages(page):
    return page.locator("#thread-messages li.msg")


def test_two_strangers_keep_in_touch_and_talk_in_their_thread(stranger):
    a, b = stranger("A"), stranger("B")
    pair(a, b)

    a.click("#keep-button")
    expect(a.locator("#keep-status")).to_contain_text("You asked to keep in touch")
    expect(b.locator("#keep-status")).to_have_text("Stranger would like to keep in touch.")
    b.click("#keep-button")  # "Keep in touch too"
    for page in (a, b):
        expect(page.locator("#thread-link")).to_be_visible()
    thread_id = ChatThread.objects.get().thread_id
    assert thread_id == "__".join(sorted([str(visitor_id(a)), str(visitor_id(b))]))
    screenshot(b, "threads-kept.png")

    # 60 earlier messages, so that the thread page shows 50 and loads the rest on request.
    people = (visitor_id(a), visitor_id(b))

    def post_earlier():  # on a thread of its own: Playwright's event loop runs in this one
        for n in range(60):
            thread_message_post(thread_id=thread_id, sender_id=people[n % 2], body=f"earlier {n}", client_id=f"e{n}")
        connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(post_earlier).result()

    a_thread, b_thread = open_thread(a), open_thread(b)
    for page in (a_thread, b_thread):
        expect(messages(page)).to_have_count(50)
        expect(messages(page).first).to_contain_text("earlier 10")
    for page, partner in ((a_thread, b), (b_thread, a)):
        expect(page.locator("#partner-name")).to_have_text(Visitor.objects.get(id=visitor_id(partner)).username)
        expect(page.locator(".site-header #your-threads")).to_be_visible()
    a_thread.click("#load-older")
    expect(messages(a_thread)).to_have_count(60)
    expect(messages(a_thread).first).to_contain_text("earlier 0")
    expect(a_thread.locator("#load-older")).to_be_hidden()
    expect(a_thread.locator(".threads-note")).to_contain_text("clearing them loses it")

    # Live, both ways: sending -> sent, and the other page shows it without a reload.
    a_thread.fill("#thread-input", "so good to find you again")
    a_thread.keyboard.press("Enter")
    expect(a_thread.locator('li.msg.me[data-status="sent"]')).to_contain_text("so good to find you again")
    expect(messages(b_thread).last).to_contain_text("so good to find you again")
    b_thread.fill("#thread-input", "likewise!")
    b_thread.keyboard.press("Enter")
    expect(messages(a_thread).last).to_contain_text("likewise!")
    expect(messages(b_thread).last).to_contain_text("likewise!")
    screenshot(a_thread, "threads-thread.png")

    # B reports A from the thread page: the report carries the thread's last 50 messages.
    b_thread.click("#report-thread")
    b_thread.select_option("#thread-report-reason", "spam")
    b_thread.click("#report-send")
    expect(b_thread.locator("#toasts")).to_contain_text("the moderators will look at it")
    expect(b_thread.locator("#report-dialog")).not_to_be_visible()
    report = Report.objects.get()
    assert (report.thread_id, report.reported_user_id, report.reason) == (thread_id, visitor_id(a), "spam")
    assert [line["text"] for line in report.evidence][-2:] == ["so good to find you again", "likewise!"]
    assert len(report.evidence) == 50

    # B away from the thread: A's next message shows as unread in B's list, until B reads it.
    b_thread.close()
    a_thread.fill("#thread-input", "one more thing")
    a_thread.keyboard.press("Enter")
    expect(a_thread.locator('li.msg.me[data-status="sent"]').last).to_contain_text("one more thing")
    b.goto("/threads/")
    entry = b.locator(f'.thread-item[data-thread-id="{thread_id}"]')
    expect(entry.locator(".thread-last")).to_have_text("one more thing")
    expect(entry.locator(".thread-name")).to_have_text(Visitor.objects.get(id=visitor_id(a)).username)
    expect(entry.locator(".unread-dot")).to_be_visible()
    expect(b.locator(".threads-note")).to_contain_text("clearing your cookies loses them")
    screenshot(b, "threads-list.png")
    with b.expect_response(lambda response: response.url.endswith(f"/api/threads/{thread_id}/read")) as read:
        entry.locator("a").click()
    assert read.value.status == 204
    b_thread = b
    b_thread.console_messages = b.console_messages
    expect(messages(b_thread).last).to_contain_text("one more thing")
    expect(b_thread.locator('#thread[data-socket="open"]')).to_have_count(1)
    b_thread.go_back()
    expect(b_thread.locator(f'.thread-item[data-thread-id="{thread_id}"] .unread-dot')).to_have_count(0)
    b_thread.go_forward()
    expect(b_thread.locator('#thread[data-socket="open"]')).to_have_count(1)
    expect(messages(b_thread).last).to_contain_text("one more thing")  # its newest page is in

    # The thread ends behind A's page's back: A's next message is refused and shown as not sent.
    ChatThread.objects.filter(thread_id=thread_id).update(closed_at=timezone.now())
    a_thread.fill("#thread-input", "are you still there?")
    a_thread.keyboard.press("Enter")
    failed = a_thread.locator('li.msg.me[data-status="failed"]')
    expect(failed).to_contain_text("are you still there?")
    expect(failed.locator("button", has_text="Retry")).to_be_visible()
    expect(a_thread.locator("#thread")).to_have_attribute("data-state", "ended")
    expect(a_thread.locator("#thread-status")).to_contain_text("ended")
    screenshot(a_thread, "threads-refused.png")

    # B ends it too (it already has): B's page says so and takes no more messages.
    b_thread.on("dialog", lambda dialog: dialog.accept())
    b_thread.click("#end-thread")
    expect(b_thread.locator("#thread")).to_have_attribute("data-state", "ended")
    expect(b_thread.locator("#thread-input")).to_be_disabled()
    for page in (a, a_thread, b_thread):
        assert not [line for line in page.console_messages if line.startswith("page error")], page.console_messages


def test_asking_after_the_chat_ended_still_keeps_in_touch_and_the_first_asker_learns_it(stranger):
    a, b = stranger("A"), stranger("B")
    pair(a, b)
    a.click("#keep-button")
    expect(b.locator("#keep-status")).to_have_text("Stranger would like to keep in touch.")

    a.click("#end-button")
    a.click("#end-button")  # "Really?": the chat ends and both room sockets close
    expect(a.locator("#chat")).to_have_attribute("data-state", "you-left")
    expect(b.locator("#chat")).to_have_attribute("data-state", "partner-left")
    b.click("#keep-button")

    expect(b.locator("#thread-link")).to_be_visible()
    expect(a.locator("#thread-link")).to_be_visible(timeout=WAIT_MS)  # A asks again every 5 s (idempotent)
    thread_id = ChatThread.objects.get().thread_id
    assert a.locator("#thread-link").get_attribute("href") == f"/threads/{thread_id}/"
