"""Mood rooms (the EchoRoom seed's schema): small group sessions picked by how people feel.

The rules that can live in the database do: at most max_participants, a count that never
goes below zero, one active membership per visitor, one reaction per (message, user,
emoji), one message per (session, sender, client_id). The rest (the count equals the
active members, replies stay within their session) is kept by moodrooms.services under
the session row's lock.
"""

import uuid

from django.db import models
from django.db.models import F, Q

from chat.models import Visitor

MAX_PARTICIPANTS = 6
MIN_PARTICIPANTS = 2


class Category(models.TextChoices):
    MOTIVATED = "motivated", "Motivated"
    HOPEFUL = "hopeful", "Hopeful"
    LONELY = "lonely", "Lonely"
    JOYFUL = "joyful", "Joyful"
    CALM = "calm", "Calm"
    LOVING = "loving", "Loving"
    BOOKS = "books", "Books"


class ChatSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    category = models.CharField(max_length=20, choices=Category.choices)
    # "Calm", "Calm 2", ...: the seeded session has the category's label, overflow ones a number.
    name = models.CharField(max_length=40)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    # The seven sessions of the data migration: never closed for being empty, and each is
    # the lock that serialises joins and openings in its category (moodrooms.services).
    is_seeded = models.BooleanField(default=False, editable=False)
    max_participants = models.PositiveSmallIntegerField(default=MAX_PARTICIPANTS)
    current_participants = models.PositiveSmallIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.SET_NULL, db_column="created_by", related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chat_sessions"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_participants__gte=MIN_PARTICIPANTS, max_participants__lte=MAX_PARTICIPANTS),
                name="chat_session_capacity_2_to_6",
            ),
            models.CheckConstraint(
                condition=Q(current_participants__gte=0, current_participants__lte=F("max_participants")),
                name="chat_session_never_over_capacity",
            ),
            models.UniqueConstraint(
                fields=["category"], condition=Q(is_seeded=True), name="one_seeded_session_per_category"
            ),
        ]
        indexes = [models.Index(fields=["category", "is_active"], name="chat_sessions_category_idx")]

    def __str__(self) -> str:
        return self.name


class SessionParticipant(models.Model):
    """One stay of a visitor in a session: a rejoin is a new row, so moderators (and the
    report rule "shared a session within the last 10 minutes") see every stay."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_column="user_id", related_name="session_stays")
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    mood = models.CharField(max_length=20, blank=True)
    is_muted = models.BooleanField(default=False)
    # Refreshed by the member's live socket; the stale-membership sweep reads it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "session_participants"
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_active=True), name="one_active_session_per_user"),
            models.CheckConstraint(
                condition=Q(is_active=True, left_at__isnull=True) | Q(is_active=False, left_at__isnull=False),
                name="session_participant_left_iff_inactive",
            ),
        ]
        indexes = [models.Index(fields=["session", "is_active"], name="session_members_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.session_id}"


class SessionMessage(models.Model):
    """The seed's group chat_messages."""

    class Type(models.TextChoices):
        TEXT = "text"
        SYSTEM = "system"
        AI_PROMPT = "ai-prompt"
        MOOD_CHECK = "mood-check"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.SET_NULL, db_column="user_id", related_name="+"
    )
    # A mood-check is private: only this visitor sees it.
    recipient = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, db_column="recipient_id", related_name="+"
    )
    sender_name = models.CharField(max_length=40)  # the name at the time of sending
    content = models.TextField()
    message_type = models.CharField(max_length=12, choices=Type.choices, default=Type.TEXT)
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_edited = models.BooleanField(default=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    client_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        db_table = "session_messages"
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user", "client_id"],
                condition=Q(client_id__isnull=False),
                name="session_message_client_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(is_edited=False) | Q(edited_at__isnull=False), name="session_message_edited_has_time"
            ),
        ]
        indexes = [models.Index(fields=["session", "created_at", "id"], name="session_messages_time_idx")]

    def __str__(self) -> str:
        return f"{self.sender_name}: {self.content[:40]}"


class MessageReaction(models.Model):
    message = models.ForeignKey(SessionMessage, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_column="user_id", related_name="+")
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "message_reactions"
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="one_reaction_per_message_user_emoji")
        ]


class MessageEdit(models.Model):
    """The text a message had before one edit, kept for moderators."""

    message = models.ForeignKey(SessionMessage, on_delete=models.CASCADE, related_name="edits")
    previous_content = models.TextField()
    edited_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "message_edits"
        indexes = [models.Index(fields=["message", "edited_at"], name="message_edits_message_idx")]
