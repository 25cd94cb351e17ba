"""Client (the tenant), users, Campaign (the aggregate root, an FSM), the AuditEvent table and the
governance tables: spend ledger, risk flags, compliance policy, system switch, audit summaries."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, TransitionNotAllowed, transition
from simple_history.models import HistoricalRecords

from .campaign_types import campaign_type_choices
from .currencies import validate_currency_code
from .lifecycle import LIFECYCLE, step_blockers

CHANNELS = (
    ("email", "Email"),
    ("linkedin", "LinkedIn"),
    ("instagram", "Instagram"),
    ("x", "X"),
)
CHANNEL_KEYS = frozenset(key for key, _ in CHANNELS)


class SenderIdentityFields(models.Model):
    """Who a client's emails come from (docs/senders.md). On a client: its identity; on a campaign:
    overrides, each empty field falling back to the client's (``campaigns.sender_identity``)."""

    sender_from_name = models.CharField(
        "from name", max_length=120, blank=True, help_text="The name in From, e.g. “Zoë Müller”."
    )
    sender_from_email = models.EmailField(
        "from address",
        blank=True,
        help_text="Used when a sequence has no mailbox of its own, e.g. zoe@mail.northwind.example.",
    )
    sender_reply_to = models.EmailField("reply-to", blank=True, help_text="Where replies go, if not From.")
    sending_domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="The domain whose SPF, DKIM, DMARC and MX records are checked before live email "
        "(empty: the from address's domain).",
    )
    sender_postal_address = models.TextField(
        "postal address",
        blank=True,
        help_text="Printed in every email (CAN-SPAM). Required for live email; there is no default.",
    )
    tracking_domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="A domain of the client's own, CNAME'd to the ESP's tracking host, e.g. "
        "track.northwind.example. Needed before a sequence may track opens or clicks: tracked links "
        "then carry the client's domain, not one shared with every other sender of the ESP.",
    )

    class Meta:
        abstract = True


class Client(SenderIdentityFields, models.Model):
    """An agency customer. Every campaign belongs to one; API users are scoped to one."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("change_sender_identity", "Can set a client's and its campaigns' sender identity"),
        ]

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


class PauseKind(models.TextChoices):
    """Why a paused campaign is paused. A safety pause is resumed only by an approver, with a
    rationale (``campaign.resume_safety_pause``); a manual one by whoever may resume it."""

    NONE = "", "Not paused"
    MANUAL = "manual", "Paused by a person"
    CIRCUIT_BREAKER = "circuit_breaker", "Circuit breaker (complaints or bounces)"
    AUTO_PAUSE = "auto_pause", "Auto-pause rule"


SAFETY_PAUSE_KINDS = frozenset({PauseKind.CIRCUIT_BREAKER, PauseKind.AUTO_PAUSE})


class CampaignMode(models.TextChoices):
    DRY_RUN = "dry_run", "Dry run (records what would be sent, sends nothing)"
    LIVE = "live", "Live"


def _refuse_when_blocked(campaign: Campaign, step_name: str, rules_checked: bool) -> None:
    """A step other apps' rules may block is refused here unless its caller (``transition_campaign``,
    under the campaign's lock, a moment before) says it has just checked them: a direct call of the
    transition cannot skip them, and the service does not run them twice."""
    if rules_checked:
        return
    reasons = step_blockers(LIFECYCLE[step_name], campaign)
    if reasons:
        raise TransitionNotAllowed(
            f"Cannot {LIFECYCLE[step_name].label} campaign {campaign.pk}: " + "; ".join(reasons),
            object=campaign,
        )


class Campaign(FSMModelMixin, SenderIdentityFields, models.Model):
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
    pause_kind = models.CharField(
        max_length=20,
        choices=PauseKind.choices,
        blank=True,
        default=PauseKind.NONE,
        help_text="While paused: who or what paused it (safety pauses need an approver to resume).",
    )
    # --- budget (written only by campaigns.services.budget) --------------------------------------
    budget_cap = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Most this campaign may spend in its currency; empty means no cap.",
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[validate_currency_code],
        help_text="ISO 4217 code every spend entry of this campaign is booked in.",
    )
    budget_warned_at = models.DateTimeField(
        null=True, blank=True, help_text="When spending crossed the warning share of the cap (sent once)."
    )
    spending_blocked_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why spending work (generation, sending) is refused; cleared when the cap is raised.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "budget_warned_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_high_risk", "Can approve work that carries a high-severity risk flag"),
            ("override_checks", "Can override failing checks and risk flags with a rationale"),
            ("manage_budget", "Can change a campaign's budget cap"),
            ("resume_safety_pause", "Can resume a campaign a circuit breaker or auto-pause rule paused"),
        ]
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

    @property
    def is_safety_paused(self) -> bool:
        return self.state == CampaignState.PAUSED and self.pause_kind in SAFETY_PAUSE_KINDS

    # --- lifecycle -----------------------------------------------------------------------------
    # Transition methods only move the state; services save, audit and run follow-up work. Each
    # step's name, verb, label and rules are declared once in campaigns.lifecycle.LIFECYCLE.

    @transition(
        field=state,
        source=CampaignState.DRAFT,
        target=CampaignState.PLANNING,
    )
    def start_planning(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.PLANNING,
        target=CampaignState.AWAITING_APPROVAL,
    )
    def submit_for_approval(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.AWAITING_APPROVAL,
        target=CampaignState.PLANNING,
    )
    def return_to_planning(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.AWAITING_APPROVAL,
        target=CampaignState.APPROVED,
    )
    def approve(self, *, rules_checked: bool = False) -> None:
        _refuse_when_blocked(self, "approve", rules_checked)

    @transition(
        field=state,
        source=CampaignState.APPROVED,
        target=CampaignState.ACTIVE,
    )
    def activate(self, *, rules_checked: bool = False) -> None:
        _refuse_when_blocked(self, "activate", rules_checked)

    @transition(field=state, source=CampaignState.ACTIVE, target=CampaignState.PAUSED)
    def pause(self) -> None:
        pass

    @transition(
        field=state,
        source=CampaignState.PAUSED,
        target=CampaignState.ACTIVE,
    )
    def resume(self, *, rules_checked: bool = False) -> None:
        _refuse_when_blocked(self, "resume", rules_checked)

    @transition(
        field=state,
        source=[CampaignState.ACTIVE, CampaignState.PAUSED],
        target=CampaignState.COMPLETED,
    )
    def complete(self) -> None:
        pass

    @transition(
        field=state,
        source=NON_FINAL_STATES,
        target=CampaignState.CANCELLED,
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


# --- governance: budget ledger -----------------------------------------------------------------


class SpendKind(models.TextChoices):
    AI_GENERATION = "ai_generation", "AI generation"
    ESP = "esp", "Email sending (ESP)"
    AD_SPEND = "ad_spend", "Ad spend"
    DATA = "data", "Data / enrichment"
    MANUAL = "manual", "Manual entry"


class SpendEntry(models.Model):
    """One booked cost. Append-only: a correction is a new (negative) manual entry."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="spend_entries")
    kind = models.CharField(max_length=20, choices=SpendKind.choices)
    amount = models.DecimalField(max_digits=18, decimal_places=6)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=300, blank=True)
    source_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    source_id = models.CharField(max_length=64, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "spend entries"
        indexes = [models.Index(fields=["campaign", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


# --- governance: risk flags --------------------------------------------------------------------


class RiskSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RiskFlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    OVERRIDDEN = "overridden", "Overridden"


class RiskFlag(models.Model):
    """A finding of a risk rule about a campaign or something of it (strategy, creative…)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="risk_flags")
    severity = models.CharField(max_length=10, choices=RiskSeverity.choices)
    code = models.CharField(max_length=80, help_text="Stable rule code, e.g. claims.absolute")
    message = models.TextField()
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    target_repr = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=RiskFlagStatus.choices, default=RiskFlagStatus.OPEN)
    resolution_rationale = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id", "code"], name="riskflag_one_per_target_and_code"
            )
        ]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.code}: {self.target_repr}"


# --- governance: compliance policy -------------------------------------------------------------


class CompliancePolicy(models.Model):
    """Rules a campaign runs under: its own policy, else its client's default, else the defaults."""

    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="compliance_policies",
        help_text="Set for a client's default policy (leave the campaign empty).",
    )
    campaign = models.OneToOneField(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="compliance_policy",
        help_text="Set for one campaign's own policy (leave the client empty).",
    )
    require_strategy_approval = models.BooleanField(default=True)
    require_creative_approval = models.BooleanField(default=True)
    require_client_approval = models.BooleanField(default=False)
    consent_regions = models.JSONField(
        default=list,
        blank=True,
        help_text='Regions whose leads need a consent record before contact, e.g. ["EU", "UK"].',
    )
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text="No sending from this local time of the lead…"
    )
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="…until this local time.")
    max_daily_volume = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Hard ceiling on emails per day; the campaign's own cap still applies.",
    )
    sender_postal_address = models.TextField(
        blank=True, help_text="Physical postal address printed in every email (CAN-SPAM)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "compliance policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False, campaign__isnull=True)
                | Q(client__isnull=True, campaign__isnull=False),
                name="policy_for_client_xor_campaign",
            ),
            models.UniqueConstraint(
                fields=["client"], condition=Q(campaign__isnull=True), name="one_default_policy_per_client"
            ),
        ]

    def __str__(self) -> str:
        if self.campaign_id:
            return f"Policy of campaign {self.campaign}"
        return f"Default policy of {self.client}"


# --- governance: system switch -----------------------------------------------------------------


class SystemSwitch(models.Model):
    """A single row (pk=1): while ``paused`` no campaign sends and no cycle runs."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    paused = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "system pause switch"
        verbose_name_plural = "system pause switch"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="system_switch_is_singleton")]

    def __str__(self) -> str:
        return "System PAUSED" if self.paused else "System running"


# --- governance: audit retention ---------------------------------------------------------------


class AuditDailySummary(models.Model):
    """What pruned, non-decision audit events said: one count per campaign, day and verb."""

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_summaries"
    )
    date = models.DateField()
    verb = models.CharField(max_length=80)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-date", "verb"]
        verbose_name_plural = "audit daily summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "date", "verb"],
                condition=Q(campaign__isnull=False),
                name="audit_summary_unique_per_campaign",
            ),
            models.UniqueConstraint(
                fields=["date", "verb"],
                condition=Q(campaign__isnull=True),
                name="audit_summary_unique_without_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.verb} x{self.count}"


# --- outbound events: the transactional outbox (webhooks app delivers them) ---------------------


class OutboxEvent(models.Model):
    """One business event, written in the transaction that caused it (campaigns.events.emit_event),
    so a rollback leaves none. The webhooks app fans it out to the client's subscribed endpoints."""

    event_id = models.CharField(max_length=40, unique=True, help_text="The payload's id (evt_…).")
    type = models.CharField(max_length=60, help_text="e.g. lead.won (campaigns.event_types)")
    version = models.PositiveSmallIntegerField(default=1)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="outbox_events")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox_events"
    )
    data = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    # Null until the dispatcher turned it into deliveries (partial index: the pending ones only).
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(fanned_out_at__isnull=True), name="outbox_event_pending"),
            models.Index(fields=["client", "occurred_at"], name="outbox_event_client_time"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
