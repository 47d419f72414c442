"""The mood room page carries the report form (every reason, the details limit) in a dialog,
which its members' Report buttons open (static/js/moodroom.js)."""

import pytest

from moodrooms.tests.factories import CALM_ID
from reports.models import Report

pytestmark = pytest.mark.django_db


def test_the_mood_room_page_has_the_report_form_with_every_reason(visitor):
    page = visitor().get(f"/rooms/{CALM_ID}/").content.decode()

    dialog = page[page.index('<dialog id="report-dialog"') : page.index("</dialog>")]
    assert "data-report-form" in dialog and "data-report-cancel" in dialog
    for value, label in Report.Reason.choices:
        assert f'value="{value}"' in dialog and label in dialog
    details_max = Report._meta.get_field("details").max_length
    assert f'maxlength="{details_max}"' in dialog
