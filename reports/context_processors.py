from reports.models import Report


def report_form(request) -> dict:
    """The report form's choices and limits, for every page that shows it (templates/_report_form.html).

    A context processor, so that the pages of the apps below reports (the chat page, a
    thread) show the form without importing reports.
    """
    return {"reasons": Report.Reason.choices, "details_max_length": Report._meta.get_field("details").max_length}
