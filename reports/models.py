from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from chat.models import ChatRoom, Visitor


class Report(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        HARASSMENT = "harassment", "Harassment"
        SEXUAL = "sexual", "Nudity or sexual content"
        UNDERAGE = "underage", "Underage user"
        HATE = "hate", "Hate speech"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open"
        ACTIONED = "actioned"
        DISMISSED = "dismissed"

    reporter = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_column="reporter_id", related_name="+")
    reported_user = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, db_column="reported_user_id", related_name="reports_against"
    )
    room = models.ForeignKey(ChatRoom, null=True, on_delete=models.SET_NULL, related_name="reports")
    # A report about a keep-in-touch thread names the thread instead of a room.
    thread = models.ForeignKey(
        "threads.ChatThread", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    # A report about a mood room member names the session (reported_user says who).
    session = models.ForeignKey(
        "moodrooms.ChatSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    details = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    # A snapshot of the room's last messages taken at report time, so purging
    # messages later cannot erase the evidence.
    evidence = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "reports"
        constraints = [
            models.UniqueConstraint(fields=["reporter", "room"], name="one_report_per_pairing"),
            models.UniqueConstraint(fields=["reporter", "thread"], name="one_report_per_thread"),
            models.UniqueConstraint(
                fields=["reporter", "session", "reported_user"], name="one_report_per_session_member"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="reports_queue_idx")]

    def __str__(self) -> str:
        return f"Report {self.pk} against {self.reported_user_id} ({self.reason})"


class BanQuerySet(models.QuerySet):
    def active(self, *, now: datetime) -> "BanQuerySet":
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), lifted_at__isnull=True)

    def ended(self, *, now: datetime) -> "BanQuerySet":
        return self.filter(Q(expires_at__lte=now) | Q(lifted_at__isnull=False))


class Ban(models.Model):
    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, db_column="user_id", related_name="bans"
    )
    ip_hash = models.CharField(max_length=64, blank=True, db_index=True)
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty means permanent.")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = BanQuerySet.as_manager()

    class Meta:
        db_table = "bans"
        constraints = [
            models.CheckConstraint(
                condition=Q(visitor__isnull=False) | ~Q(ip_hash=""), name="ban_targets_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"Ban of {self.visitor_id or self.ip_hash[:12]}"
