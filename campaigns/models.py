"""Client (the tenant), users, Campaign (the aggregate root, an FSM) and the AuditEvent table."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from .campaign_types import campaign_type_choices
from .lifecycle import activation_blockers, approval_blockers

CHANNELS = (
    ("email", "Email"),
    ("linkedin", "LinkedIn"),
    ("instagram", "Instagram"),
    ("x", "X"),
)
CHANNEL_KEYS = frozenset(key for key, _ in CHANNELS)


class Client(models.Model):
    """An agency customer. Every campaign belongs to one; API users are scoped to one."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Agency staff have no client (they see every client); client users have exactly one."""

    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="Set for client users, who see only this client's data. Empty for agency staff.",
    )

    @property
    def is_client_user(self) -> bool:
        return self.client_id is not None and not self.is_staff


class CampaignState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PLANNING = "planning", "Planning"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATES = (CampaignState.COMPLETED, CampaignState.CANCELLED)
NON_FINAL_STATES = [s for s in CampaignState.values if s not in FINAL_STATES]


# The order buttons and API lists show lifecycle steps in.
TRANSITION_ORDER = (
    "start_planning",
    "submit_for_approval",
    "return_to_planning",
    "approve",
    "activate",
    "pause",
    "resume",
    "complete",
    "kill",
)


class CampaignMode(models.TextChoices):
    DRY_RUN = "dry_run", "Dry run (records what would be sent, sends nothing)"
    LIVE = "live", "Live"


def _can_approve(campaign: Campaign) -> bool:
    return not approval_blockers(campaign)


def _can_activate(campaign: Campaign) -> bool:
    return not activation_blockers(campaign)


class Campaign(FSMModelMixin, models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=40, choices=campaign_type_choices, default="lead_gen")
    objective = models.TextField(blank=True)
    target_niche = models.CharField(max_length=200, blank=True)
    icp = models.TextField("ideal customer profile", blank=True)
    target_clients = models.PositiveIntegerField(
        default=10, help_text="Qualified leads that count as the goal being met."
    )
    target_mrr = models.DecimalField(
        "target MRR",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    channels = models.JSONField(default=list, blank=True, help_text='Enabled channels, e.g. ["email"].')
    daily_email_cap = models.PositiveIntegerField(
        default=20,
        validators=[MinValueValidator(0)],
        help_text="Emails this campaign may send per day (in the campaign's time zone).",
    )
    timezone = models.CharField(max_length=64, default="UTC")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_campaigns",
    )
    mode = models.CharField(max_length=10, choices=CampaignMode.choices, default=CampaignMode.DRY_RUN)
    allow_client_approval = models.BooleanField(
        default=False,
        help_text="Let the client's users select and approve strategy and creative.",
    )
    state = FSMField(default=CampaignState.DRAFT, choices=CampaignState.choices, protected=True)
    state_reason = models.CharField(
        max_length=500, blank=True, help_text="Why the last state change happened."
    )
    state_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "state"]), models.Index(fields=["state"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="campaign_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client})" if self.client_id else self.name

    @property
    def is_live(self) -> bool:
        return self.mode == CampaignMode.LIVE

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    # --- lifecycle -----------------------------------------------------------------------------
    # Transition methods only move the state; services save, audit and run follow-up work.

    @transition(
        field=state,
        source=CampaignState.DRAFT,
        target=CampaignState.PLANNING,
        custom={"label": "Start planning"},
    )
    def start_planning(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.PLANNING,
        target=CampaignState.AWAITING_APPROVAL,
        custom={"label": "Submit for approval"},
    )
    def submit_for_approval(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.AWAITING_APPROVAL,
        target=CampaignState.PLANNING,
        custom={"label": "Send back to planning", "rationale_required": True},
    )
    def return_to_planning(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.AWAITING_APPROVAL,
        target=CampaignState.APPROVED,
        conditions=[_can_approve],
        custom={"label": "Approve"},
    )
    def approve(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.APPROVED,
        target=CampaignState.ACTIVE,
        conditions=[_can_activate],
        custom={"label": "Activate"},
    )
    def activate(self) -> None:
        pass

    @transition(
        field=state, source=CampaignState.ACTIVE, target=CampaignState.PAUSED, custom={"label": "Pause"}
    )
    def pause(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.PAUSED,
        target=CampaignState.ACTIVE,
        conditions=[_can_activate],
        custom={"label": "Resume"},
    )
    def resume(self) -> None:
        pass

    @transition(
        field=state,
        source=[CampaignState.ACTIVE, CampaignState.PAUSED],
        target=CampaignState.COMPLETED,
        custom={"label": "Complete"},
    )
    def complete(self) -> None:
        pass

    @transition(
        field=state,
        source=NON_FINAL_STATES,
        target=CampaignState.CANCELLED,
        custom={"label": "Kill", "rationale_required": True},
    )
    def kill(self) -> None:
        pass


class AuditEvent(models.Model):
    """One row per decision or side effect: who did what to which object, and why."""

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=150, help_text="The actor's username at the time, or 'system' for automation."
    )
    verb = models.CharField(max_length=80, db_index=True, help_text="e.g. campaign.paused, email.sent")
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    target_repr = models.CharField(max_length=300, blank=True)
    rationale = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["campaign", "created_at"]),
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb}"
