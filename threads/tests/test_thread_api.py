"""The threads API: members only, idempotent posting, newest-first pages, ending for both, unread."""

import pytest

from threads.models import ThreadMessage
from threads.tests.builders import kept_thread, page, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(chatting):
    alice, bob, room_id = chatting
    return alice, bob, kept_thread(alice, bob, room_id)


def test_a_member_posts_201_and_a_resend_with_the_same_client_id_is_200_and_stored_once(thread):
    alice, bob, thread_id = thread

    first = post(alice, thread_id, "  hello  ", "c-1")
    again = post(alice, thread_id, "hello", "c-1")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    message = first.json()
    assert message["body"] == "hello"
    assert message["thread_id"] == thread_id
    assert message["sender_id"] == alice.user_id
    assert message["client_id"] == "c-1"
    assert set(message) == {"id", "thread_id", "sender_id", "body", "created_at", "client_id"}
    assert ThreadMessage.objects.count() == 1


def test_the_same_client_id_from_the_other_member_is_a_different_message(thread):
    alice, bob, thread_id = thread
    assert post(alice, thread_id, "one", "same").status_code == 201
    assert post(bob, thread_id, "two", "same").status_code == 201
    assert ThreadMessage.objects.count() == 2


@pytest.mark.parametrize(
    "body, mentions",
    [
        ({"body": "", "client_id": "x"}, "body"),
        ({"body": "   ", "client_id": "x"}, "body"),
        ({"body": "a" * 2001, "client_id": "x"}, "2000"),
        ({"body": 5, "client_id": "x"}, "body"),
        ({"body": "hi"}, "client_id"),
        ({"body": "hi", "client_id": "x" * 65}, "client_id"),
    ],
)
def test_bad_messages_are_a_400_naming_the_field(thread, body, mentions):
    alice, bob, thread_id = thread
    response = alice.api("post", f"/api/threads/{thread_id}/messages", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert mentions in response.json()["error"]["detail"]
    assert not ThreadMessage.objects.exists()


def test_outsiders_cannot_read_post_end_or_mark_and_learn_nothing(thread, visitor):
    alice, bob, thread_id = thread
    post(alice, thread_id, "private", "c-1")
    outsider = visitor()

    for response in [
        outsider.get(f"/api/threads/{thread_id}/messages"),
        post(outsider, thread_id, "let me in", "o-1"),
        outsider.api("delete", f"/api/threads/{thread_id}"),
        outsider.api("post", f"/api/threads/{thread_id}/read", {"message_id": str(ThreadMessage.objects.get().id)}),
        outsider.get("/api/threads/not-a-thread/messages"),
    ]:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "thread_not_found"
    assert outsider.get("/api/threads").json() == {"results": []}
    assert ThreadMessage.objects.count() == 1


def test_the_newest_50_come_oldest_first_and_next_before_walks_back_without_gap_or_repeat(thread, settings):
    settings.MESSAGE_RATE_BURST = 200
    alice, bob, thread_id = thread
    for i in range(120):
        post(alice if i % 2 else bob, thread_id, f"m{i}", f"c{i}")

    first = page(alice, thread_id)
    assert [m["body"] for m in first["results"]] == [f"m{i}" for i in range(70, 120)]
    second = page(alice, thread_id, before=first["next_before"])
    assert [m["body"] for m in second["results"]] == [f"m{i}" for i in range(20, 70)]
    third = page(alice, thread_id, before=second["next_before"])
    assert [m["body"] for m in third["results"]] == [f"m{i}" for i in range(0, 20)]
    assert third["next_before"] is None
    assert [m["body"] for m in page(bob, thread_id, limit=5)["results"]] == [f"m{i}" for i in range(115, 120)]


def test_posting_is_rate_limited_per_visitor(thread, settings):
    settings.MESSAGE_RATE_BURST = 3
    alice, bob, thread_id = thread
    statuses = [post(alice, thread_id, f"m{i}", f"c{i}").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert ThreadMessage.objects.count() == 3


@pytest.mark.parametrize("query", [{"before": "not-a-uuid"}, {"limit": 0}, {"limit": 101},
                                   {"before": "00000000-0000-4000-8000-000000000000"}])
def test_bad_page_queries_are_a_400(thread, query):
    alice, bob, thread_id = thread
    response = alice.get(f"/api/threads/{thread_id}/messages", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_either_member_ends_the_thread_for_both_then_both_get_410(thread):
    alice, bob, thread_id = thread
    post(alice, thread_id, "bye?", "c-1")

    assert bob.api("delete", f"/api/threads/{thread_id}").status_code == 204

    for member in (alice, bob):
        for response in [
            member.get(f"/api/threads/{thread_id}/messages"),
            post(member, thread_id, "still there?", "late"),
            member.api("delete", f"/api/threads/{thread_id}"),
        ]:
            assert response.status_code == 410
            assert response.json()["error"]["code"] == "thread_ended"
        assert member.get("/api/threads").json() == {"results": []}
    assert ThreadMessage.objects.count() == 1


def test_my_threads_list_newest_activity_first_with_partner_name_last_message_and_unread(visitor):
    me = visitor()
    threads = []
    for _ in range(2):
        partner = visitor()
        room_id = me.api("post", "/api/chat/start").json()["room_id"]
        assert partner.api("post", "/api/chat/start").json()["room_id"] == room_id
        threads.append((partner, kept_thread(me, partner, room_id)))
        me.api("post", "/api/chat/leave", {"room_id": room_id})
    (older_partner, older), (newer_partner, newer) = threads
    post(newer_partner, newer, "hi from the newer", "n-1")
    post(older_partner, older, "hi from the older", "o-1")  # now the newest activity

    results = me.get("/api/threads").json()["results"]

    assert [t["thread_id"] for t in results] == [older, newer]
    assert results[0]["last_message"]["body"] == "hi from the older"
    assert results[0]["partner_id"] == older_partner.user_id
    assert results[0]["partner_name"] and results[0]["partner_name"] != results[1]["partner_name"]
    assert [t["unread"] for t in results] == [True, True]

    last = results[0]["last_message"]["id"]
    assert me.api("post", f"/api/threads/{older}/read", {"message_id": last}).status_code == 204
    assert [t["unread"] for t in me.get("/api/threads").json()["results"]] == [False, True]

    post(me, newer, "my own reply", "m-1")  # my own last message is never unread
    assert [t["unread"] for t in me.get("/api/threads").json()["results"]] == [False, False]
    assert older_partner.get("/api/threads").json()["results"][0]["unread"] is False


def test_the_read_marker_never_moves_back(thread):
    alice, bob, thread_id = thread
    old = post(bob, thread_id, "first", "b-1").json()["id"]
    new = post(bob, thread_id, "second", "b-2").json()["id"]
    alice.api("post", f"/api/threads/{thread_id}/read", {"message_id": new})

    alice.api("post", f"/api/threads/{thread_id}/read", {"message_id": old})

    assert alice.get("/api/threads").json()["results"][0]["unread"] is False


def test_the_thread_pages_render_and_say_cookies_hold_the_threads(thread):
    alice, bob, thread_id = thread
    listing = alice.get("/threads/")
    detail = alice.get(f"/threads/{thread_id}/")
    assert listing.status_code == detail.status_code == 200
    assert b"clearing your cookies loses them" in listing.content
    assert b"clearing them loses it" in detail.content
    assert thread_id.encode() in detail.content


def test_the_header_links_to_your_threads_once_you_have_one(chatting):
    alice, bob, room_id = chatting
    assert b'id="your-threads"' not in alice.get("/").content
    thread_id = kept_thread(alice, bob, room_id)

    assert b'href="/threads/"' in alice.get("/").content
    alice.api("delete", f"/api/threads/{thread_id}")
    assert b'id="your-threads"' not in bob.get("/chat/").content


def test_the_list_and_the_pages_are_never_cached_so_going_back_shows_them_fresh(thread):
    alice, bob, thread_id = thread
    for response in (alice.get("/api/threads"), alice.get(f"/api/threads/{thread_id}/messages")):
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
