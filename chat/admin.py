"""Read-only views of visitors and rooms for moderators; visitors can be banned from here."""

from django.contrib import admin
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.utils import timezone

from chat.models import ChatMessage, ChatParticipant, ChatRoom, Visitor
from reports.admin import ModerationActionsMixin
from reports.models import Ban, Report


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _active_bans():
    return Ban.objects.active(now=timezone.now()).filter(visitor=OuterRef("pk"))


class BanStateFilter(admin.SimpleListFilter):
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
    list_display = ["id", "first_seen", "last_seen", "report_count", "ban_state"]
    list_filter = [BanStateFilter, ("last_seen", admin.DateFieldListFilter)]
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


class ParticipantInline(ReadOnlyMixin, admin.TabularInline):
    model = ChatParticipant
    fields = ["user", "joined_at", "left_at", "heartbeat_at"]
    readonly_fields = fields
    extra = 0


class MessageInline(ReadOnlyMixin, admin.TabularInline):
    model = ChatMessage
    fields = ["timestamp", "sender", "is_system", "message"]
    readonly_fields = fields
    ordering = ["timestamp", "id"]
    extra = 0


@admin.register(ChatRoom)
class ChatRoomAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "status", "mode", "closed_at", "participant_count"]
    list_filter = ["status", "mode", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["id"]
    ordering = ["-created_at"]
    fields = ["id", "created_at", "status", "mode", "closed_at", "common_interests"]
    readonly_fields = fields
    inlines = [ParticipantInline, MessageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participants_count=Count("participants"))

    @admin.display(description="People", ordering="participants_count")
    def participant_count(self, room):
        return room.participants_count
