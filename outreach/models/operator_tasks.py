"""Operator tasks (Campaign Ops): posts we do not publish automatically, with SOPs."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from campaigns.models import CHANNELS, Campaign
from creative.models import CreativeVariant
from strategy.models import CalendarItem

__all__ = [
    "FINISHED_TASK_STATES",
    "OPEN_TASK_STATES",
    "MetricEntry",
    "OperatorTask",
    "OperatorTaskState",
    "OperatorTaskType",
]

PROOF_URL_VALIDATOR = URLValidator(schemes=["http", "https"])


class OperatorTaskType(models.TextChoices):
    POST = "post", "Post"
    ENGAGEMENT = "engagement", "Engagement follow-up"
    ESCALATION = "escalation", "Escalation"
    REPLY = "reply", "Answer a reply"


class OperatorTaskState(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


OPEN_TASK_STATES = (OperatorTaskState.PENDING, OperatorTaskState.IN_PROGRESS)
FINISHED_TASK_STATES = (OperatorTaskState.DONE, OperatorTaskState.FAILED, OperatorTaskState.SKIPPED)


class OperatorTask(FSMModelMixin, models.Model):
    """One thing a person does by hand on a platform we do not post to automatically.

    The SOP and the creative text are copied in when the task is created (``instructions`` and
    ``creative_snapshot``): a later SOP version or creative edit never rewrites what the operator
    was told to do.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="operator_tasks")
    task_type = models.CharField(max_length=20, choices=OperatorTaskType.choices)
    platform = models.CharField(
        max_length=20, choices=CHANNELS, blank=True, help_text="Empty for escalations."
    )
    content_type = models.CharField(max_length=80, blank=True)
    title = models.CharField(max_length=300)
    idempotency_key = models.CharField(
        max_length=120,
        unique=True,
        help_text="What this task was created for (calendar item, parent + offset, campaign + week): "
        "creating it again finds this row instead.",
    )
    # what the operator was told, frozen at creation
    sop_key = models.CharField(max_length=80, blank=True)
    sop_version = models.PositiveIntegerField(null=True, blank=True)
    instructions = models.JSONField(
        default=dict, blank=True, help_text="SOP snapshot: title, where, how, tips, common_mistakes."
    )
    creative_snapshot = models.JSONField(
        default=dict, blank=True, help_text="The approved creative text as it was when the task was made."
    )
    # where it comes from
    calendar_item = models.ForeignKey(
        CalendarItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="operator_tasks"
    )
    creative = models.ForeignKey(
        CreativeVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="operator_tasks"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        help_text="The post an engagement follow-up belongs to.",
    )
    # who and when
    due_at = models.DateTimeField(db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="operator_tasks",
        help_text="Empty: anyone on the team may take it.",
    )
    state = FSMField(default=OperatorTaskState.PENDING, choices=OperatorTaskState.choices, protected=True)
    overdue_since = models.DateTimeField(
        null=True, blank=True, help_text="Set by the daily tick the first time the task is seen overdue."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    # outcome
    proof_url = models.URLField(max_length=1000, blank=True, validators=[PROOF_URL_VALIDATOR])
    proof_text = models.TextField(blank=True)
    outcome_reason = models.TextField(blank=True, help_text="Why it failed or was skipped.")
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["campaign", "state", "due_at"]),
            models.Index(fields=["state", "due_at"]),
        ]
        constraints = [
            # A calendar item yields at most one task of each type (follow-ups hang off the parent).
            models.UniqueConstraint(
                fields=["calendar_item", "task_type"],
                condition=Q(calendar_item__isnull=False),
                name="operator_task_once_per_calendar_item_and_type",
            ),
            models.CheckConstraint(
                condition=~Q(state=OperatorTaskState.DONE) | ~Q(proof_url="") | ~Q(proof_text=""),
                name="operator_task_done_has_proof",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_task_type_display()}: {self.title[:80]}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TASK_STATES

    # Transitions only move the state; services lock, check, save, audit and create follow-ups.

    @transition(field=state, source=OperatorTaskState.PENDING, target=OperatorTaskState.IN_PROGRESS)
    def start(self) -> None:
        pass

    @transition(field=state, source=OperatorTaskState.IN_PROGRESS, target=OperatorTaskState.DONE)
    def complete(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_TASK_STATES), target=OperatorTaskState.FAILED)
    def fail(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_TASK_STATES), target=OperatorTaskState.SKIPPED)
    def skip(self) -> None:
        pass


class MetricEntry(models.Model):
    """Numbers an operator read off the platform's analytics for one task; several per task."""

    task = models.ForeignKey(OperatorTask, on_delete=models.CASCADE, related_name="metric_entries")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="operator_metric_entries")
    impressions = models.PositiveIntegerField(default=0)
    engagements = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["task_id", "recorded_at", "id"]
        verbose_name_plural = "metric entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(impressions__gte=0) & Q(engagements__gte=0) & Q(clicks__gte=0),
                name="metric_entry_counts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"task #{self.task_id} at {self.recorded_at:%Y-%m-%d %H:%M}: "
            f"{self.impressions} impressions, {self.engagements} engagements, {self.clicks} clicks"
        )
