"""Keep in touch: the pending asks, the threads they make, and the threads' messages."""

import uuid

from django.db import models
from django.db.models import Q

from chat.models import ChatRoom, Visitor

THREAD_ID_LENGTH = 2 * 36 + 2  # two hyphenated UUIDs joined by "__"


def thread_id_for(first: uuid.UUID, second: uuid.UUID) -> str:
    """The seed's deterministic id: both visitor UUIDs, canonical hyphenated form, sorted, joined by "__"."""
    return "__".join(sorted((str(first), str(second))))


class KeepRequest(models.Model):
    """One person's "Keep in touch" in one chat room. Only a pair of them makes a thread;
    a lone one makes nothing and is useless once the room's keep window has passed."""

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_column="user_id", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "thread_keep_requests"
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="one_keep_request_per_person_and_room")]
        indexes = [models.Index(fields=["created_at"], name="thread_keep_requests_age_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} keeps {self.room_id}"


class ChatThread(models.Model):
    thread_id = models.CharField(primary_key=True, max_length=THREAD_ID_LENGTH)
    # user_a sorts before user_b (as their ids do in thread_id).
    user_a = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_column="user_a_id", related_name="+")
    user_b = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_column="user_b_id", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The newest activity (the last message, else the latest opening): the list's order,
    # and the floor for the next message's created_at (see services.thread_message_post).
    last_message_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Each member's last-read marker: the created_at of the newest message they have seen.
    user_a_read_at = models.DateTimeField(null=True, blank=True)
    user_b_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "chat_threads"
        constraints = [
            models.CheckConstraint(condition=Q(user_a__lt=models.F("user_b")), name="thread_members_sorted"),
        ]
        indexes = [
            models.Index(fields=["user_a", "-last_message_at"], name="chat_threads_user_a_idx"),
            models.Index(fields=["user_b", "-last_message_at"], name="chat_threads_user_b_idx"),
            models.Index(fields=["closed_at"], name="chat_threads_closed_idx", condition=Q(closed_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.thread_id

    def member_ids(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.user_a_id, self.user_b_id)

    def partner_of(self, user_id: uuid.UUID) -> uuid.UUID:
        return self.user_b_id if user_id == self.user_a_id else self.user_a_id


class ThreadMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(ChatThread, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.SET_NULL, db_column="sender_id", related_name="+"
    )
    body = models.TextField()
    # Strictly increasing within a thread, in commit order (assigned under the thread's row lock).
    created_at = models.DateTimeField()
    client_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        db_table = "thread_messages"
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="thread_message_client_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["thread", "created_at", "id"], name="thread_messages_time_idx")]

    def __str__(self) -> str:
        return f"{self.sender_id}: {self.body[:40]}"
