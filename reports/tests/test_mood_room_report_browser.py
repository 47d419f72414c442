"""End to end: a mood room member reports another from the member list's Report button
(the shared report form in a dialog), and the report names the room and that member."""

import uuid

import pytest
from playwright.sync_api import expect

from chat.tests.test_browser import browser, daphne_server, stranger  # noqa: F401 (fixtures)
from moodrooms.tests.factories import CALM_ID
from moodrooms.tests.test_browser import join_calm
from reports.models import Report

pytestmark = pytest.mark.browser


def test_a_member_reports_another_from_the_member_list(stranger):
    ada, bo = stranger("ada"), stranger("bo")
    for page in (ada, bo):
        join_calm(page)
    expect(ada.locator("#member-list .member")).to_have_count(2)
    bo_id = bo.evaluate("() => fetch('/api/me').then((r) => r.json()).then((me) => me.user_id)")
    mine = ada.locator("#member-list .member", has_text="(you)")
    expect(mine.locator(".member-report")).to_have_count(0)  # nobody reports themselves

    ada.locator(f'#member-list .member[data-user-id="{bo_id}"] .member-report').click()
    dialog = ada.locator("#report-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Spam").check()
    dialog.get_by_role("button", name="Send report").click()

    expect(dialog.locator("[data-report-success]")).to_contain_text("Thank you")
    report = Report.objects.get()
    assert report.session_id == CALM_ID and report.reported_user_id == uuid.UUID(bo_id) and report.reason == "spam"
    expect(dialog).to_be_hidden()
