"""The report page (the form itself comes with reports.context_processors.report_form)."""

from uuid import UUID

from django.shortcuts import render

from chat.views import page


@page
def report(request):
    return render(request, "report.html", {"room_id": _uuid_or_none(request.GET.get("room"))})


def _uuid_or_none(raw: str | None) -> UUID | None:
    try:
        return UUID(raw) if raw else None
    except ValueError:
        return None
