"""Read-only views of threads for moderators (a thread's transcript, newest last)."""

from django.contrib import admin
from django.db.models import Count

from chat.admin import ReadOnlyMixin
from threads.models import ChatThread, ThreadMessage


class ThreadMessageInline(ReadOnlyMixin, admin.TabularInline):
    model = ThreadMessage
    fields = ["created_at", "sender", "body"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    extra = 0


@admin.register(ChatThread)
class ChatThreadAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["thread_id", "created_at", "last_message_at", "closed_at", "message_count"]
    list_filter = [("closed_at", admin.EmptyFieldListFilter), ("last_message_at", admin.DateFieldListFilter)]
    search_fields = ["thread_id"]
    search_help_text = "A visitor id (either member), or part of one."
    ordering = ["-last_message_at"]
    fields = ["thread_id", "user_a", "user_b", "created_at", "last_message_at", "closed_at"]
    readonly_fields = fields
    list_select_related = ["user_a", "user_b"]
    inlines = [ThreadMessageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(messages_count=Count("messages"))

    @admin.display(description="Messages", ordering="messages_count")
    def message_count(self, thread):
        return thread.messages_count
