"""Mood rooms for moderators: sessions (change the size or description, retire), their
members, and messages with their edit history."""

from django import forms
from django.contrib import admin, messages

from moodrooms.models import ChatSession, MessageEdit, SessionMessage, SessionParticipant
from moodrooms.services import session_retire, session_update
from whimsy_project.errors import WhimsyError


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MemberInline(ReadOnlyInline):
    model = SessionParticipant
    fields = ["user", "mood", "is_muted", "joined_at", "heartbeat_at"]
    readonly_fields = fields
    verbose_name_plural = "members now"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_active=True).select_related("user")


class SessionForm(forms.ModelForm):
    class Meta:
        model = ChatSession
        fields = ["description", "max_participants"]


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    form = SessionForm
    list_display = [
        "name", "category", "current_participants", "max_participants", "is_active", "is_seeded", "created_at",
    ]
    list_filter = ["category", "is_active", "is_seeded"]
    search_fields = ["name", "description"]
    readonly_fields = ["category", "name", "is_active", "is_seeded", "current_participants", "created_by", "created_at"]
    list_select_related = ["created_by"]
    inlines = [MemberInline]
    actions = ["retire"]

    def has_add_permission(self, request):
        return False  # people open sessions (POST /api/sessions); seeded ones come from a migration

    def has_delete_permission(self, request, obj=None):
        return False  # retire instead: messages stay as evidence

    def save_model(self, request, obj, form, change):
        # Through the service, under the session's lock: a plain save would write back a
        # current_participants read before a concurrent join or leave.
        try:
            session_update(
                session_id=obj.id, description=obj.description, max_participants=obj.max_participants
            )
        except WhimsyError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)

    @admin.action(description="Retire the selected sessions (everyone in them leaves)")
    def retire(self, request, queryset):
        ended = sum(session_retire(session_id=session_id) for session_id in queryset.values_list("id", flat=True))
        self.message_user(request, f"Retired {queryset.count()} sessions; {ended} people left them.")


@admin.register(SessionParticipant)
class SessionParticipantAdmin(admin.ModelAdmin):
    list_display = ["user", "session", "mood", "is_active", "is_muted", "joined_at", "left_at"]
    list_filter = ["is_active", "session__category", "mood"]
    list_select_related = ["user", "session"]
    search_fields = ["user__id", "user__display_name", "session__name"]
    readonly_fields = ["session", "user", "mood", "is_active", "is_muted", "joined_at", "left_at", "heartbeat_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EditInline(ReadOnlyInline):
    model = MessageEdit
    fields = ["previous_content", "edited_at"]
    readonly_fields = fields
    verbose_name_plural = "text before each edit"


@admin.register(SessionMessage)
class SessionMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "session", "sender_name", "message_type", "content", "is_edited"]
    list_filter = ["message_type", "is_edited", "session__category"]
    list_select_related = ["session"]
    search_fields = ["content", "sender_name", "user__id"]
    readonly_fields = [
        "session", "user", "recipient", "sender_name", "content", "message_type", "reply_to", "is_edited",
        "edited_at", "created_at", "client_id",
    ]
    inlines = [EditInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
