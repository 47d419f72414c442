"""The moderation queue: reports with their transcripts, bans, and the actions on them.

Actions are thin: they call reports.services and report back with message_user.
"""

from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from django.contrib import admin, messages
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from chat.admin import ReadOnlyMixin
from chat.models import Visitor
from reports.models import Ban, Report
from reports.services import BAN_7_DAYS, BAN_24_HOURS, ban_lift, ban_visitor, reports_dismiss

# Inline style: the admin's stylesheet has nothing for "this line is the reported person's".
_REPORTED_ROW = mark_safe(' class="reported-line" style="background:#fdecea;font-weight:bold"')


def visitor_link(visitor_id: UUID | None):
    if visitor_id is None:
        return "—"
    url = reverse("admin:chat_visitor_change", args=[visitor_id])
    return format_html('<a href="{}">{}</a>', url, visitor_id)


class ModerationActionsMixin:
    """Ban (24 h, 7 days, permanently) and dismiss, on whatever a changelist lists.

    A subclass says which visitors a selection means and which open reports dismissing it closes.
    """

    actions = ["ban_for_24_hours", "ban_for_7_days", "ban_permanently", "dismiss"]

    def visitor_ids_of(self, queryset: QuerySet) -> Iterable[UUID]:
        raise NotImplementedError

    def report_ids_to_dismiss(self, queryset: QuerySet) -> Iterable[int]:
        raise NotImplementedError

    def has_ban_permission(self, request) -> bool:
        return request.user.has_perm("reports.add_ban")

    def has_dismiss_permission(self, request) -> bool:
        return request.user.has_perm("reports.change_report")

    @admin.action(description="Ban for 24 hours", permissions=["ban"])
    def ban_for_24_hours(self, request, queryset):
        self._ban(request, queryset, duration=BAN_24_HOURS, label="for 24 hours")

    @admin.action(description="Ban for 7 days", permissions=["ban"])
    def ban_for_7_days(self, request, queryset):
        self._ban(request, queryset, duration=BAN_7_DAYS, label="for 7 days")

    @admin.action(description="Ban permanently", permissions=["ban"])
    def ban_permanently(self, request, queryset):
        self._ban(request, queryset, duration=None, label="permanently")

    @admin.action(description="Dismiss open reports (no violation)", permissions=["dismiss"])
    def dismiss(self, request, queryset):
        count = reports_dismiss(report_ids=self.report_ids_to_dismiss(queryset), by=request.user)
        self.message_user(request, f"Dismissed {count} open report{'s' if count != 1 else ''}.", messages.SUCCESS)

    def _ban(self, request, queryset, *, duration: timedelta | None, label: str) -> None:
        visitor_ids = set(self.visitor_ids_of(queryset))
        for visitor_id in visitor_ids:
            ban_visitor(visitor_id=visitor_id, duration=duration, by=request.user, reason=f"Moderator ban {label}")
        count = len(visitor_ids)
        self.message_user(
            request,
            f"Banned {count} visitor{'s' if count != 1 else ''} {label}; their open reports are resolved "
            "and their chats ended.",
            messages.SUCCESS,
        )


@admin.register(Report)
class ReportAdmin(ModerationActionsMixin, admin.ModelAdmin):
    list_display = ["id", "reported", "reason", "age", "status", "reporters_of_visitor", "handled_by"]
    list_display_links = ["id"]
    list_filter = ["status", "reason", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["handled_by"]
    search_fields = ["reported_user__id", "reporter__id"]
    search_help_text = "A visitor id (reported or reporter), or part of one."
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = [
        "reported",
        "reporter_link",
        "room_link",
        "reason",
        "details",
        "created_at",
        "status",
        "handled_by",
        "handled_at",
        "transcript",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        distinct_reporters = (
            Report.objects.filter(reported_user=OuterRef("reported_user"))
            .order_by()
            .values("reported_user")
            .annotate(count=Count("reporter", distinct=True))
            .values("count")
        )
        return super().get_queryset(request).annotate(reporters_count=Subquery(distinct_reporters))

    def visitor_ids_of(self, queryset):
        return queryset.values_list("reported_user_id", flat=True)

    def report_ids_to_dismiss(self, queryset):
        return queryset.values_list("id", flat=True)

    def has_add_permission(self, request):
        return False  # reports come from visitors only

    def has_delete_permission(self, request, obj=None):
        return False  # a report is the record of a decision; it is settled, never erased

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Every field is read-only: a report changes only through the actions.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description="Reported visitor", ordering="reported_user_id")
    def reported(self, report):
        return visitor_link(report.reported_user_id)

    @admin.display(description="Reporter")
    def reporter_link(self, report):
        return visitor_link(report.reporter_id)

    @admin.display(description="Room")
    def room_link(self, report):
        if report.session_id is not None:
            return format_html('<a href="{}">mood room {}</a>',
                               reverse("admin:moodrooms_chatsession_change", args=[report.session_id]), report.session_id)
        if report.room_id is None:
            return "— (deleted)"
        return format_html('<a href="{}">{}</a>', reverse("admin:chat_chatroom_change", args=[report.room_id]),
                           report.room_id)

    @admin.display(description="Age", ordering="created_at")
    def age(self, report):
        return timesince(report.created_at, timezone.now())

    @admin.display(description="Distinct reporters", ordering="reporters_count")
    def reporters_of_visitor(self, report):
        return report.reporters_count

    @admin.display(description="Transcript at report time (reported visitor's lines marked ▶)")
    def transcript(self, report):
        if not report.evidence:
            return "No messages had been sent in this chat."
        rows = format_html_join(
            "\n",
            "<tr{}><td>{}</td><td>{}</td><td style='white-space:pre-wrap'>{}</td></tr>",
            (
                (
                    _REPORTED_ROW if line["sender"] == "reported" else "",
                    line["timestamp"],
                    _SENDER_LABELS.get(line["sender"], line["sender"]),
                    "".join([line["text"], *(f"\n(before an edit: {old})" for old in line.get("edits", []))]),
                )
                for line in report.evidence
            ),
        )
        return format_html("<table><thead><tr><th>Time (UTC)</th><th>Who</th><th>Message</th></tr></thead>"
                           "<tbody>{}</tbody></table>", rows)


_SENDER_LABELS = {
    "reported": "▶ Reported visitor", "reporter": "Reporter", "member": "Another member", "system": "System",
}


class BanStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("ended", "Expired or lifted")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active(now=timezone.now())
        if self.value() == "ended":
            return queryset.ended(now=timezone.now())
        return queryset


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ["id", "banned_visitor", "reason", "made_by", "created_at", "until", "state", "lifted_by"]
    list_filter = [BanStateFilter, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["created_by", "lifted_by"]
    search_fields = ["visitor__id"]
    search_help_text = "A visitor id, or part of one."
    ordering = ["-created_at"]
    actions = ["lift"]
    fields = ["banned_visitor", "ip_hash", "reason", "made_by", "created_at", "until", "lifted_at", "lifted_by"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # bans are made by the actions on reports and visitors, which end the chat too

    def has_delete_permission(self, request, obj=None):
        return False  # lift instead: the history stays

    @admin.action(description="Lift the selected bans now", permissions=["change"])
    def lift(self, request, queryset):
        lifted = sum(ban_lift(ban_id=ban_id, by=request.user) for ban_id in queryset.values_list("id", flat=True))
        self.message_user(request, f"Lifted {lifted} ban{'s' if lifted != 1 else ''}.", messages.SUCCESS)

    @admin.display(description="Visitor", ordering="visitor_id")
    def banned_visitor(self, ban):
        return visitor_link(ban.visitor_id) if ban.visitor_id else f"address {ban.ip_hash[:12]}…"

    @admin.display(description="Made by", ordering="created_by")
    def made_by(self, ban):
        return ban.created_by or "system (automatic)"

    @admin.display(description="Until", ordering="expires_at")
    def until(self, ban):
        return ban.expires_at or "permanent"

    @admin.display(description="State")
    def state(self, ban):
        if ban.lifted_at is not None:
            return "lifted"
        if ban.expires_at is not None and ban.expires_at <= timezone.now():
            return "expired"
        return "active"


# --- visitors ----------------------------------------------------------------------


def _active_bans():
    return Ban.objects.active(now=timezone.now()).filter(visitor=OuterRef("pk"))


class VisitorBanFilter(admin.SimpleListFilter):
    title = "ban state"
    parameter_name = "banned"

    def lookups(self, request, model_admin):
        return [("yes", "Banned now"), ("no", "Not banned")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(is_banned=self.value() == "yes")
        return queryset


class BanInline(ReadOnlyMixin, admin.TabularInline):
    model = Ban
    fields = ["reason", "created_by", "created_at", "expires_at", "lifted_at"]
    readonly_fields = fields
    extra = 0


class ReportAgainstInline(ReadOnlyMixin, admin.TabularInline):
    model = Report
    fk_name = "reported_user"
    verbose_name_plural = "reports against this visitor"
    fields = ["reason", "status", "created_at", "reporter"]
    readonly_fields = fields
    show_change_link = True
    extra = 0


@admin.register(Visitor)
class VisitorAdmin(ModerationActionsMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Visitors for moderators: reports against them, their bans, and the ban actions."""

    list_display = ["id", "first_seen", "last_seen", "report_count", "ban_state"]
    list_filter = [VisitorBanFilter, ("last_seen", admin.DateFieldListFilter)]
    search_fields = ["id"]
    search_help_text = "A visitor id, or part of one."
    ordering = ["-last_seen"]
    fields = ["id", "first_seen", "last_seen", "ip_hash"]
    readonly_fields = fields
    inlines = [ReportAgainstInline, BanInline]

    def get_queryset(self, request):
        longest_ban_end = _active_bans().order_by(F("expires_at").desc(nulls_first=True)).values("expires_at")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(
                reports_count=Count("reports_against", distinct=True),
                is_banned=Exists(_active_bans()),
                banned_until=Subquery(longest_ban_end),
            )
        )

    def visitor_ids_of(self, queryset):
        return queryset.values_list("id", flat=True)

    def report_ids_to_dismiss(self, queryset):
        return Report.objects.filter(reported_user__in=queryset, status=Report.Status.OPEN).values_list("id", flat=True)

    @admin.display(description="Reports against", ordering="reports_count")
    def report_count(self, visitor):
        return visitor.reports_count

    @admin.display(description="Ban", ordering="is_banned")
    def ban_state(self, visitor):
        if not visitor.is_banned:
            return "—"
        return f"until {visitor.banned_until:%Y-%m-%d %H:%M} UTC" if visitor.banned_until else "permanently"
