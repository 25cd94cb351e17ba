"""Tables of the strategy app: the brief, generated batches of variants, the decision trail, the
plan built from the approved variant and its content calendar.

Every row carries its campaign (directly), so "which campaign does this belong to?" is no join.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from campaigns.models import CHANNELS, Campaign

MIN_VARIANTS = 2
MAX_VARIANTS = 5
DEFAULT_VARIANTS = 3
DEFAULT_DURATION_DAYS = 90  # a campaign without start/end dates is planned over 90 days


class Tone(models.TextChoices):
    PROFESSIONAL = "professional", "Professional"
    FRIENDLY = "friendly", "Friendly"
    BOLD = "bold", "Bold"
    PLAYFUL = "playful", "Playful"
    AUTHORITATIVE = "authoritative", "Authoritative"
    EMPATHETIC = "empathetic", "Empathetic"


class Brief(models.Model):
    """What the client wants from the campaign; the input of strategy generation (one per campaign)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="strategy_brief")
    objective = models.TextField(help_text="What the campaign must achieve, in one or two sentences.")
    audience = models.TextField(help_text="Who we talk to: the ideal customer profile.")
    offer = models.TextField(help_text="What we offer them (product, service, event, content).")
    channels = models.JSONField(
        default=list, help_text=f"Channels to use; known: {', '.join(k for k, _ in CHANNELS)}."
    )
    tone = models.CharField(max_length=20, choices=Tone.choices, default=Tone.PROFESSIONAL)
    constraints = models.TextField(blank=True, help_text="What we must not do or say; legal limits.")
    budget = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Total budget for the campaign, in the currency below.",
    )
    currency = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"Brief for {self.campaign.name}"


class StrategyBatch(models.Model):
    """One generation request: its variants are kept for good; regenerating makes a new batch."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="strategy_batches")
    number = models.PositiveIntegerField(help_text="1, 2, 3… per campaign.")
    generator = models.CharField(max_length=40, help_text="Which generator adapter produced it.")
    model_name = models.CharField(max_length=100, blank=True, help_text="LLM model, if any.")
    brief_snapshot = models.JSONField(default=dict, help_text="The brief as it was when generated.")
    requested_variants = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_VARIANTS), MaxValueValidator(MAX_VARIANTS)]
    )
    duration_days = models.PositiveIntegerField(default=90)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    generation_cost = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        default=0,
        help_text="Cost of generation (LLM tokens), recorded until the budget ledger books it.",
    )
    cost_currency = models.CharField(max_length=3, default="USD")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "strategy batches"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="strategy_batch_number_per_campaign")
        ]

    def __str__(self) -> str:
        return f"Batch {self.number} of {self.campaign.name}"


class VariantState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    SELECTED = "selected", "Selected"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class StrategyVariant(FSMModelMixin, models.Model):
    """One strategic option. Content is written once at generation and never overwritten."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="strategy_variants")
    batch = models.ForeignKey(StrategyBatch, on_delete=models.CASCADE, related_name="variants")
    position = models.PositiveSmallIntegerField(help_text="1-based order inside the batch.")
    angle = models.CharField(max_length=40, help_text="conservative, aggressive, creative…")
    title = models.CharField(max_length=200)
    positioning = models.TextField()
    pillars = models.JSONField(default=list)
    channel_mix = models.JSONField(default=dict)
    cadence = models.JSONField(default=dict)
    phases = models.JSONField(default=list)
    kpi_targets = models.JSONField(default=dict)
    budget_split = models.JSONField(default=list)
    risks = models.JSONField(default=list)
    state = FSMField(default=VariantState.PROPOSED, choices=VariantState.choices, protected=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_rationale = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["batch_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="strategy_variant_position_per_batch"),
            # The database, not luck, guarantees one approved strategy per campaign.
            models.UniqueConstraint(
                fields=["campaign"],
                condition=Q(state="approved"),
                name="one_approved_strategy_per_campaign",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "state"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    # Transitions only move the state; services lock, check, save, record the decision and audit.

    @transition(field=state, source=VariantState.PROPOSED, target=VariantState.SELECTED)
    def select(self) -> None:
        pass

    @transition(field=state, source=VariantState.SELECTED, target=VariantState.PROPOSED)
    def deselect(self) -> None:
        pass

    @transition(field=state, source=VariantState.SELECTED, target=VariantState.APPROVED)
    def approve(self) -> None:
        pass

    @transition(
        field=state, source=[VariantState.PROPOSED, VariantState.SELECTED], target=VariantState.REJECTED
    )
    def reject(self) -> None:
        pass


class DecisionAction(models.TextChoices):
    SELECTED = "selected", "Selected"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class StrategyDecision(models.Model):
    """The decision trail of a variant: who selected / approved / rejected it, when and why."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="strategy_decisions")
    variant = models.ForeignKey(StrategyVariant, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=20, choices=DecisionAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    rationale = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} variant {self.variant_id}"


class CampaignPlan(models.Model):
    """The approved variant laid over the campaign's dates. Rebuilt in place, never duplicated."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="strategy_plan")
    variant = models.ForeignKey(StrategyVariant, on_delete=models.PROTECT, related_name="plans")
    start_date = models.DateField()
    end_date = models.DateField()
    timezone = models.CharField(max_length=64, default="UTC")
    kpi_targets = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="plan_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"Plan for {self.campaign.name} ({self.start_date} - {self.end_date})"

    @property
    def duration_days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class PlanPhase(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(CampaignPlan, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField()
    tactics = models.JSONField(default=list)
    metrics = models.JSONField(default=dict)

    class Meta:
        ordering = ["plan_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="plan_phase_position_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_date} - {self.end_date})"


class CalendarItem(models.Model):
    """One planned piece of content. Operators may edit it; an edited item survives regeneration."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calendar_items")
    plan = models.ForeignKey(CampaignPlan, on_delete=models.CASCADE, related_name="calendar_items")
    phase = models.ForeignKey(
        PlanPhase, null=True, blank=True, on_delete=models.SET_NULL, related_name="calendar_items"
    )
    slot_key = models.CharField(
        max_length=80, help_text="Stable identity of the generated slot, so regeneration updates in place."
    )
    scheduled_at = models.DateTimeField()
    platform = models.CharField(max_length=20, choices=CHANNELS)
    content_type = models.CharField(max_length=80)
    theme = models.CharField(max_length=300)
    notes = models.TextField(blank=True)
    edited_by_operator = models.BooleanField(
        default=False, help_text="Set when an operator changed it; regeneration then leaves it alone."
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["scheduled_at", "platform", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slot_key"], name="calendar_slot_once_per_campaign")
        ]
        indexes = [models.Index(fields=["campaign", "scheduled_at"])]

    def __str__(self) -> str:
        return f"{self.scheduled_at:%Y-%m-%d %H:%M} {self.platform}: {self.theme}"
