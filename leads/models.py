"""Tables of the leads app: Lead (FSM), imports and their per-row issues, suppression, consent, policy.

``__str__`` of the person-holding models never contains the address or a name: audit events keep
``str(target)`` and must stay free of personal data so that an erasure does not have to rewrite them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as current_time
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from campaigns.models import Campaign, Client

EMAIL_MAX_LENGTH = 254


class LeadState(models.TextChoices):
    NEW = "new", "New"
    ENRICHED = "enriched", "Enriched"
    CONTACTED = "contacted", "Contacted"
    REPLIED = "replied", "Replied"
    QUALIFIED = "qualified", "Qualified"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"


# States outreach may still send to (when suppression and consent allow it). Won and lost are
# outcomes; the three exits end all outreach for good.
CONTACTABLE_STATES = (
    LeadState.NEW,
    LeadState.ENRICHED,
    LeadState.CONTACTED,
    LeadState.REPLIED,
    LeadState.QUALIFIED,
)
EXIT_STATES = (LeadState.UNSUBSCRIBED, LeadState.BOUNCED, LeadState.DO_NOT_CONTACT)
OPEN_STATES = [s for s in LeadState.values if s not in (*EXIT_STATES, LeadState.WON, LeadState.LOST)]


class LeadSource(models.TextChoices):
    CSV = "csv", "CSV import"
    API = "api", "API push"
    MANUAL = "manual", "Entered by hand"
    FINDER = "finder", "Third-party finder"


class LeadImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class LeadImport(models.Model):
    """One run of the importer and its report (the counts; per-row issues in LeadImportIssue)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="lead_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.CSV)
    filename = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True, help_text="Lead field → file column.")
    ignored_columns = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=LeadImportStatus.choices, default=LeadImportStatus.RUNNING
    )
    error = models.TextField(blank=True, help_text="Why the import stopped, when it failed.")
    rows_read = models.PositiveIntegerField(default=0)
    inserted = models.PositiveIntegerField(default=0)
    duplicates_in_file = models.PositiveIntegerField(default=0)
    duplicates_in_campaign = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(
        default=0, help_text="Leads inserted with a value left empty (each value listed as a warning)."
    )
    blank_lines = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=current_time)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} into campaign {self.campaign_id}"

    @property
    def rejected(self) -> int:
        return self.duplicates_in_file + self.duplicates_in_campaign + self.suppressed + self.invalid


class ImportIssueKind(models.TextChoices):
    INVALID = "invalid", "Invalid"
    DUPLICATE_IN_FILE = "duplicate_in_file", "Duplicate in file"
    DUPLICATE_IN_CAMPAIGN = "duplicate_in_campaign", "Already in campaign"
    SUPPRESSED = "suppressed", "Suppressed"
    # Not a rejection: the lead was inserted with this field left empty.
    FLAGGED = "flagged", "Flagged (lead imported, value left empty)"


# The kinds that kept a row out; the rest are warnings about a lead that was imported.
REJECTION_KINDS = (
    ImportIssueKind.INVALID,
    ImportIssueKind.DUPLICATE_IN_FILE,
    ImportIssueKind.DUPLICATE_IN_CAMPAIGN,
    ImportIssueKind.SUPPRESSED,
)


class LeadImportIssue(models.Model):
    """Why one row of an import was not inserted, or (kind "flagged") a value of an inserted lead
    that was left empty."""

    # The (lead_import, row_number) index serves look-ups; no database-level foreign key, whose
    # per-row check would cost every import (Django's CASCADE still removes issues with their import).
    lead_import = models.ForeignKey(
        LeadImport, on_delete=models.CASCADE, related_name="issues", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField(help_text="Line number in the file; the header is row 1.")
    kind = models.CharField(max_length=24, choices=ImportIssueKind.choices)
    field = models.CharField(max_length=40)
    reason = models.CharField(max_length=500)
    value = models.CharField(max_length=300, blank=True, help_text="The offending value, as given.")

    class Meta:
        ordering = ["lead_import", "row_number", "id"]
        indexes = [models.Index(fields=["lead_import", "row_number"])]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.field} {self.kind}"


class Lead(FSMModelMixin, models.Model):
    # No database-level foreign key: PostgreSQL would check it once per inserted row at commit, a
    # large share of a bulk import's database time (docs/PERFORMANCE.md). Django still cascades
    # deletes through the ORM, and campaigns are archived through their lifecycle, never
    # hard-deleted in normal operation.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="leads", db_index=False, db_constraint=False
    )
    email = models.CharField(max_length=EMAIL_MAX_LENGTH, help_text="As given; used for display and sending.")
    normalized_email = models.CharField(
        max_length=EMAIL_MAX_LENGTH,
        help_text="Identity form: trimmed, lower-cased, IDNA domain, Gmail dots and +tags removed.",
    )
    email_domain = models.CharField(max_length=253, help_text="Domain of the normalized email.")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField("job title", max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    company_size = models.CharField(
        max_length=40, blank=True, help_text='Employees, as given: "120", "51-200", "1000+".'
    )
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    timezone = models.CharField(max_length=64, blank=True)
    linkedin_url = models.CharField("LinkedIn URL", max_length=500, blank=True)
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.CSV)
    source_import = models.ForeignKey(
        LeadImport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # A soft reference: no index and no database-level foreign key, whose per-row check at
        # commit would cost every bulk import; Django still applies SET_NULL when an import goes.
        db_index=False,
        db_constraint=False,
        help_text="The import that created this lead.",
    )
    enrichment = models.JSONField(default=dict, blank=True)
    score = models.FloatField(default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    next_action_at = models.DateTimeField(null=True, blank=True)
    state = FSMField(default=LeadState.NEW, choices=LeadState.choices, protected=True)
    state_reason = models.CharField(max_length=500, blank=True)
    hold_reason = models.CharField(
        "held for review",
        max_length=300,
        blank=True,
        default="",
        db_default="",  # the set-based import writers insert rows in SQL, naming their columns
        help_text="Not contacted while set: why the lead waits for an operator (e.g. an address a "
        "reply referred us to). Releasing it clears this.",
    )
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the person's data was erased; never contacted again."
    )
    created_at = models.DateTimeField(default=current_time)
    updated_at = models.DateTimeField(default=current_time)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["id"]  # cheap (primary key); lists that rank by score say so explicitly
        indexes = [
            # Partial: imported leads have no next action yet, so a bulk import does not pay for it;
            # outreach looks up due leads, which always have one.
            models.Index(
                fields=["campaign", "state", "next_action_at"],
                name="lead_due_per_campaign",
                condition=Q(next_action_at__isnull=False),
            ),
        ]
        constraints = [
            # Also the campaign index (its prefix): every lead query is campaign-scoped. Look-ups of
            # one address across campaigns go campaign by campaign (see services.leads_of_address).
            models.UniqueConstraint(fields=["campaign", "normalized_email"], name="lead_unique_per_campaign"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="lead_score_0_to_1"),
        ]

    def __str__(self) -> str:
        return f"Lead #{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    # --- lifecycle: transitions only move the state; services save, audit and follow up ----------

    @transition(field=state, source=LeadState.NEW, target=LeadState.ENRICHED)
    def mark_enriched(self) -> None:
        pass

    @transition(field=state, source=[LeadState.NEW, LeadState.ENRICHED], target=LeadState.CONTACTED)
    def mark_contacted(self) -> None:
        pass

    @transition(field=state, source=LeadState.CONTACTED, target=LeadState.REPLIED)
    def mark_replied(self) -> None:
        pass

    @transition(field=state, source=[LeadState.CONTACTED, LeadState.REPLIED], target=LeadState.QUALIFIED)
    def qualify(self) -> None:
        pass

    @transition(field=state, source=LeadState.QUALIFIED, target=LeadState.WON)
    def win(self) -> None:
        pass

    @transition(field=state, source=OPEN_STATES, target=LeadState.LOST)
    def lose(self) -> None:
        pass

    @transition(field=state, source=OPEN_STATES, target=LeadState.UNSUBSCRIBED)
    def unsubscribe(self) -> None:
        pass

    @transition(field=state, source=OPEN_STATES, target=LeadState.BOUNCED)
    def bounce(self) -> None:
        pass

    @transition(
        field=state,
        source=[*OPEN_STATES, LeadState.UNSUBSCRIBED, LeadState.BOUNCED],
        target=LeadState.DO_NOT_CONTACT,
    )
    def forbid_contact(self) -> None:
        pass


class SuppressionKind(models.TextChoices):
    EMAIL = "email", "Email address"
    DOMAIN = "domain", "Whole domain"
    ERASED_EMAIL = "erased_email", "Erased address (SHA-256)"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    MANUAL_DNC = "manual_dnc", "Manual do-not-contact"
    LEGAL = "legal", "Legal"
    ERASED = "erased", "Erased (right to erasure)"


class Suppression(models.Model):
    """Never contact this address or domain: for one client, or for everyone when client is empty."""

    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="suppressions",
        help_text="Empty: suppressed for every client.",
    )
    kind = models.CharField(max_length=20, choices=SuppressionKind.choices)
    value = models.CharField(
        max_length=EMAIL_MAX_LENGTH,
        help_text="Normalized email, normalized domain, or the SHA-256 of an erased normalized email.",
    )
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    source = models.CharField(
        max_length=100, blank=True, help_text="Where it came from: unsubscribe link, ESP webhook, operator…"
    )
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=current_time)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["value", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "value"],
                condition=Q(client__isnull=False),
                name="suppression_unique_per_client",
            ),
            models.UniqueConstraint(
                fields=["kind", "value"], condition=Q(client__isnull=True), name="suppression_unique_global"
            ),
        ]

    def __str__(self) -> str:
        scope = f"client {self.client_id}" if self.client_id else "global"
        return f"Suppression #{self.pk} ({self.get_kind_display()}, {self.reason}, {scope})"

    @property
    def is_global(self) -> bool:
        return self.client_id is None


class LawfulBasis(models.TextChoices):
    CONSENT = "consent", "Consent"
    LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"


class ConsentRecord(models.Model):
    """Evidence that a client may contact an address: the lawful basis, where, what was shown, when."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consent_records")
    email = models.CharField(max_length=EMAIL_MAX_LENGTH)
    normalized_email = models.CharField(max_length=EMAIL_MAX_LENGTH)
    lawful_basis = models.CharField(max_length=24, choices=LawfulBasis.choices)
    source = models.CharField(max_length=200, help_text="Form, event, import… where it was captured.")
    wording = models.TextField(blank=True, help_text="The text the person agreed to (or the LIA summary).")
    wording_version = models.CharField(max_length=40, blank=True)
    captured_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True, help_text='e.g. {"ip": "…", "form_id": "…"}')
    created_at = models.DateTimeField(default=current_time)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-captured_at", "-id"]
        indexes = [models.Index(fields=["client", "normalized_email"])]

    def __str__(self) -> str:
        return f"Consent #{self.pk} ({self.lawful_basis})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class LeadPolicy(models.Model):
    """Per-campaign lead rules: ICP scoring weights, and whether a lead without a country counts
    as inside the consent regions. The regions themselves live on the campaign's compliance policy
    (`campaigns.CompliancePolicy`, with client defaults), the one source every app reads."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="lead_policy")
    unknown_country_needs_consent = models.BooleanField(
        default=True,
        help_text="When consent regions are set, treat leads without a country as inside them.",
    )
    icp_weights = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Ideal-customer weights, e.g. {"titles": {"cto": 0.3}, "industries": {"saas": 0.2}, '
            '"company_sizes": [{"min": 50, "max": 500, "weight": 0.2}], "countries": {"DE": 0.1}, '
            '"base": 0.1, "valid_email": 0.2}. Empty: the default formula.'
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "lead policies"

    def __str__(self) -> str:
        return f"Lead policy of campaign {self.campaign_id}"
