"""Creative briefs and variants (an FSM with lineage: parent, root, generation)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from campaigns.models import Campaign
from strategy.models import CalendarItem, StrategyVariant


class Platform(models.TextChoices):
    EMAIL = "email", "Email"
    LINKEDIN = "linkedin", "LinkedIn"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X"


class CreativeBrief(models.Model):
    """What one piece of creative must do; generated from the approved strategy (and calendar)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="creative_briefs")
    strategy_variant = models.ForeignKey(
        StrategyVariant, on_delete=models.PROTECT, related_name="creative_briefs"
    )
    calendar_item = models.ForeignKey(
        CalendarItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="creative_briefs"
    )
    platform = models.CharField(max_length=20, choices=Platform.choices)
    pillar = models.CharField(max_length=300, help_text="The messaging pillar this piece carries.")
    audience = models.TextField()
    offer = models.TextField()
    cta = models.CharField("call to action", max_length=200)
    tone = models.CharField(max_length=20, default="professional")
    constraints = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["campaign_id", "id"]
        indexes = [models.Index(fields=["campaign", "platform"])]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} brief #{self.pk}: {self.pillar[:60]}"


class CreativeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class CreativeVariant(FSMModelMixin, models.Model):
    """One version of one piece of creative. Approved versions are never edited: edits fork."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="creative_variants")
    brief = models.ForeignKey(CreativeBrief, on_delete=models.CASCADE, related_name="variants")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    angle = models.CharField(max_length=40)
    # lineage
    variant_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The version this one was edited from (empty for generated originals).",
    )
    root = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="family",
        help_text="The generated original at the top of this family (itself for originals).",
    )
    generation = models.PositiveSmallIntegerField(
        default=1, help_text="1 for originals, parent's + 1 for edits."
    )
    # content
    subject = models.CharField(max_length=200, blank=True)
    preheader = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    body_html = models.TextField(blank=True)
    cta = models.CharField(max_length=200, blank=True)
    hashtags = models.JSONField(default=list, blank=True)
    media_notes = models.TextField(blank=True)
    # quality checks
    check_findings = models.JSONField(default=list, blank=True)
    checks_run_at = models.DateTimeField(null=True, blank=True)
    override_rationale = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # decision
    state = FSMField(default=CreativeState.DRAFT, choices=CreativeState.choices, protected=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_rationale = models.TextField(blank=True)
    generator = models.CharField(max_length=40, default="template")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["brief_id", "root_id", "generation", "id"]
        indexes = [
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["root"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(variant_of__isnull=True, generation=1)
                | Q(variant_of__isnull=False, generation__gt=1),
                name="creative_generation_matches_parent",
            ),
        ]

    def __str__(self) -> str:
        label = self.subject or self.body[:50]
        return f"#{self.pk} v{self.generation} {self.get_platform_display()}: {label}"

    @property
    def blocking_findings(self) -> list[dict]:
        return [f for f in self.check_findings if f.get("severity") == "error"]

    # Transitions only move the state; services lock, check, save, audit.

    @transition(
        field=state,
        source=[CreativeState.DRAFT, CreativeState.CHANGES_REQUESTED],
        target=CreativeState.IN_REVIEW,
    )
    def submit_for_review(self) -> None:
        pass

    @transition(field=state, source=CreativeState.IN_REVIEW, target=CreativeState.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=state, source=CreativeState.IN_REVIEW, target=CreativeState.CHANGES_REQUESTED)
    def request_changes(self) -> None:
        pass

    @transition(
        field=state,
        source=[CreativeState.DRAFT, CreativeState.IN_REVIEW, CreativeState.CHANGES_REQUESTED],
        target=CreativeState.REJECTED,
    )
    def reject(self) -> None:
        pass
