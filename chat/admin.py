"""Read-only views of rooms and their messages for moderators (visitors and their bans: reports.admin)."""

from django.contrib import admin
from django.db.models import Count

from chat.models import ChatMessage, ChatParticipant, ChatRoom


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
