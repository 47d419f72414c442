"""The moderation admin: queue, filters, search, transcript, and every action."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.utils import timezone

from chat.models import Visitor
from matchmaking.services import leave_room
from reports.models import Ban, Report
from reports.services import MODERATOR_PERMISSIONS, MODERATORS_GROUP, ban_visitor, report_create
from reports.tests.factories import pair

pytestmark = pytest.mark.django_db

REPORTS = "/admin/reports/report/"
BANS = "/admin/reports/ban/"
VISITORS = "/admin/chat/visitor/"


def reported(*, target: uuid.UUID | None = None, reason: str = "spam", words: str = "") -> Report:
    pairing = pair(first=target) if target else pair()
    if words:
        pairing.say(pairing.first, words)
    leave_room(user_id=pairing.first, room_id=pairing.room_id)
    return report_create(reporter_id=pairing.second, room_id=pairing.room_id, reason=reason)


def shown(response) -> list:
    return list(response.context["cl"].result_list)


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def moderator(client):
    user = get_user_model().objects.create_user("mia", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    client.force_login(user)
    return client


def test_the_queue_shows_each_report_with_how_many_people_reported_that_visitor(admin_client):
    target = uuid.uuid4()
    first, second = reported(target=target), reported(target=target, reason="hate")
    other = reported()

    response = admin_client.get(REPORTS)

    assert response.status_code == 200
    counts = {report.id: report.reporters_count for report in shown(response)}
    assert counts == {first.id: 2, second.id: 2, other.id: 1}
    page = response.content.decode()
    assert str(target) in page and "Hate speech" in page


def test_the_queue_filters_by_status_reason_and_date(admin_client):
    spam, hate = reported(reason="spam"), reported(reason="hate")
    old = reported(reason="spam")
    Report.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=30), status="dismissed")

    assert {r.id for r in shown(admin_client.get(REPORTS, {"status__exact": "open"}))} == {spam.id, hate.id}
    assert {r.id for r in shown(admin_client.get(REPORTS, {"reason__exact": "hate"}))} == {hate.id}
    since = str(timezone.now() - timedelta(days=7))
    assert {r.id for r in shown(admin_client.get(REPORTS, {"created_at__gte": since}))} == {spam.id, hate.id}


def test_the_queue_is_searchable_by_visitor_id(admin_client):
    target = uuid.uuid4()
    mine = reported(target=target)
    reported()

    assert [r.id for r in shown(admin_client.get(REPORTS, {"q": str(target)}))] == [mine.id]
    assert [r.id for r in shown(admin_client.get(REPORTS, {"q": str(mine.reporter_id)}))] == [mine.id]


def test_the_report_page_shows_the_transcript_with_the_reported_lines_marked(admin_client):
    pairing = pair()
    pairing.say(pairing.second, "hello there")
    pairing.say(pairing.first, "<script>alert(1)</script> you idiot")
    report = report_create(reporter_id=pairing.second, room_id=pairing.room_id, reason="harassment")

    page = admin_client.get(f"{REPORTS}{report.id}/change/").content.decode()

    assert '<tr class="reported-line" style="background:#fdecea;font-weight:bold"><td>' in page
    marked = page.split('class="reported-line"')[1].split("</tr>")[0]
    assert "▶ Reported visitor" in marked and "&lt;script&gt;alert(1)&lt;/script&gt; you idiot" in marked
    assert "<script>alert(1)" not in page
    assert "hello there" in page.split('class="reported-line"')[0]  # the reporter's line, unmarked
    assert 'name="_save"' not in page  # read-only: reports change through actions only


@pytest.mark.parametrize(
    "action, length, words",
    [
        ("ban_for_24_hours", timedelta(hours=24), "for 24 hours"),
        ("ban_for_7_days", timedelta(days=7), "for 7 days"),
        ("ban_permanently", None, "permanently"),
    ],
)
def test_each_ban_action_bans_resolves_every_open_report_and_says_so(admin_client, admin_user, action, length, words):
    target = uuid.uuid4()
    chosen, sibling = reported(target=target), reported(target=target)

    response = admin_client.post(REPORTS, {"action": action, "_selected_action": [chosen.id]}, follow=True)

    ban = Ban.objects.get()
    assert (ban.visitor_id, ban.created_by) == (target, admin_user)
    if length is None:
        assert ban.expires_at is None
    else:
        assert abs(ban.expires_at - (ban.created_at + length)) < timedelta(seconds=1)
    for report in (chosen, sibling):
        report.refresh_from_db()
        assert (report.status, report.handled_by) == ("actioned", admin_user)
    assert flashed(response) == [
        f"Banned 1 visitor {words}; their open reports are resolved and their chats ended."
    ]


def test_dismiss_closes_the_selected_report_only(admin_client, admin_user):
    target = uuid.uuid4()
    chosen, sibling = reported(target=target), reported(target=target)

    response = admin_client.post(REPORTS, {"action": "dismiss", "_selected_action": [chosen.id]}, follow=True)

    chosen.refresh_from_db()
    sibling.refresh_from_db()
    assert (chosen.status, chosen.handled_by, sibling.status) == ("dismissed", admin_user, "open")
    assert not Ban.objects.exists()
    assert flashed(response) == ["Dismissed 1 open report."]


def test_the_visitor_list_shows_reports_and_ban_state_and_bans_from_there(admin_client, admin_user):
    target = uuid.uuid4()
    reported(target=target)
    reported(target=target)

    before = {v.id: (v.reports_count, v.is_banned) for v in shown(admin_client.get(VISITORS))}
    response = admin_client.post(VISITORS, {"action": "ban_for_7_days", "_selected_action": [target]}, follow=True)
    after = admin_client.get(VISITORS, {"banned": "yes"})

    assert before[target] == (2, False)
    assert [v.id for v in shown(after)] == [target]
    assert "until " in after.content.decode()
    assert Ban.objects.get().created_by == admin_user
    assert set(Report.objects.values_list("status", flat=True)) == {"actioned"}
    assert "Banned 1 visitor for 7 days" in flashed(response)[0]


def test_dismiss_on_a_visitor_closes_all_their_open_reports(admin_client):
    target = uuid.uuid4()
    reported(target=target)
    reported(target=target)

    response = admin_client.post(VISITORS, {"action": "dismiss", "_selected_action": [target]}, follow=True)

    assert set(Report.objects.values_list("status", flat=True)) == {"dismissed"}
    assert flashed(response) == ["Dismissed 2 open reports."]


def test_the_visitor_page_lists_the_reports_against_them_and_their_bans(admin_client, admin_user):
    report = reported(reason="underage")
    ban_visitor(visitor_id=report.reported_user_id, duration=None, by=admin_user, reason="clearly a child")

    page = admin_client.get(f"{VISITORS}{report.reported_user_id}/change/").content.decode()

    assert "Underage user" in page and "clearly a child" in page


def test_the_ban_list_shows_automatic_bans_and_lifts_them(admin_client, admin_user, settings):
    settings.AUTO_BAN_REPORTERS = 2
    target = uuid.uuid4()
    reported(target=target)
    reported(target=target)
    ban = Ban.objects.get()

    listing = admin_client.get(BANS, {"state": "active"})
    response = admin_client.post(BANS, {"action": "lift", "_selected_action": [ban.id]}, follow=True)

    assert [b.id for b in shown(listing)] == [ban.id]
    assert "system (automatic)" in listing.content.decode()
    ban.refresh_from_db()
    assert (ban.lifted_by, ban.lifted_at is not None) == (admin_user, True)
    assert flashed(response) == ["Lifted 1 ban."]
    assert shown(admin_client.get(BANS, {"state": "active"})) == []


def test_the_room_page_shows_its_people_and_messages(admin_client):
    pairing = pair()
    pairing.say(pairing.first, "what's up")
    page = admin_client.get(f"/admin/chat/chatroom/{pairing.room_id}/change/").content.decode()
    assert "what&#x27;s up" in page and str(pairing.second) in page


def test_the_moderators_group_has_exactly_the_moderation_permissions():
    group = Group.objects.get(name=MODERATORS_GROUP)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert granted == set(MODERATOR_PERMISSIONS)


def test_a_moderator_can_work_the_queue_but_not_delete_or_manage_staff(moderator):
    report = reported()

    assert moderator.get(REPORTS).status_code == 200
    assert moderator.get(f"{REPORTS}{report.id}/change/").status_code == 200
    assert moderator.get(VISITORS).status_code == 200
    assert moderator.get(BANS).status_code == 200
    assert moderator.get("/admin/auth/user/").status_code == 403
    assert moderator.get(f"{REPORTS}{report.id}/delete/").status_code == 403
    assert moderator.get(f"{VISITORS}{report.reported_user_id}/delete/").status_code == 403

    moderator.post(REPORTS, {"action": "ban_for_24_hours", "_selected_action": [report.id]})

    assert Ban.objects.get().created_by.username == "mia"
    assert Visitor.objects.filter(id=report.reported_user_id).exists()


def test_createsuperuser_works_as_usual(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-Pass-phrase-42")
    call_command("createsuperuser", interactive=False, username="root", email="root@example.com", verbosity=0)
    assert get_user_model().objects.get(username="root").is_superuser
