import uuid

from django.db import models
from django.db.models import Q

from chat.names import avatar_for, display_name_for


class Visitor(models.Model):
    """An anonymous person, known only by the UUID in their signed session cookie."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now_add=True)
    # HMAC of the client address keyed with SECRET_KEY: lets a ban follow a person
    # who clears cookies without ever storing the address itself.
    ip_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # Shown in mood rooms and threads only; generated from the id when the row is made
    # (chat.names), changeable through PATCH /api/me.
    display_name = models.CharField(max_length=24, blank=True)
    avatar = models.CharField(max_length=16, blank=True)

    class Meta:
        db_table = "visitors"

    def __str__(self) -> str:
        return str(self.id)

    @property
    def username(self) -> str:
        return self.display_name or display_name_for(self.id)

    @property
    def avatar_or_generated(self) -> str:
        return self.avatar or avatar_for(self.id)


class ChatRoom(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting"
        ACTIVE = "active"
        CLOSED = "closed"

    class Mode(models.TextChoices):
        TEXT = "text"
        VIDEO = "video"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    closed_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.TEXT)
    # The interest tags the two people share, fixed when the second one joins.
    common_interests = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "chat_rooms"
        indexes = [
            # The matchmaking scan: oldest waiting room of a mode.
            models.Index(
                fields=["mode", "created_at"],
                name="chat_rooms_waiting_idx",
                condition=Q(status="waiting"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class RoomInterest(models.Model):
    """An interest tag of the person waiting in a room; what interest matching searches."""

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="interests")
    tag = models.CharField(max_length=30)

    class Meta:
        db_table = "chat_room_interests"
        constraints = [models.UniqueConstraint(fields=["room", "tag"], name="room_interest_unique")]
        indexes = [models.Index(fields=["tag"], name="chat_room_interests_tag_idx")]


class ChatParticipant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_column="user_id", related_name="participations")
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)
    # Refreshed by the participant's live socket; a sweep ends participations whose
    # sockets died without a disconnect (a crashed server process).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "chat_participants"
        constraints = [
            # The database, not Python, forbids being in two rooms at once.
            models.UniqueConstraint(
                fields=["user"], condition=Q(left_at__isnull=True), name="one_open_participation_per_user"
            ),
        ]
        indexes = [models.Index(fields=["room", "left_at"], name="chat_participants_room_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class ChatMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.SET_NULL, db_column="sender_id", related_name="+"
    )
    message = models.TextField()
    timestamp = models.DateTimeField(auto_now_add=True)
    is_system = models.BooleanField(default=False)
    # The sender's idempotency key: a resend after a lost ack is not stored twice.
    client_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        db_table = "chat_messages"
        constraints = [
            models.UniqueConstraint(
                fields=["room", "sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="chat_message_client_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["room", "timestamp", "id"], name="chat_messages_room_time_idx")]

    def __str__(self) -> str:
        return f"{self.sender_id or 'system'}: {self.message[:40]}"
