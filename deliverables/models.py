"""Tables of the deliverables app: delivery packages, scheduled client reports, and each client's
report settings (recipients, time zone, whether a report may go out without review).

Written only by ``deliverables.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models import AuditEvent, Campaign, Client

from .storage import deliverables_storage


class Milestone(models.TextChoices):
    STRATEGY_APPROVED = "strategy_approved", "Strategy approved"
    CREATIVE_APPROVED = "creative_approved", "Creative approved"
    ON_DEMAND = "on_demand", "On demand"


class DeliveryPackage(models.Model):
    """One version of what was decided for a campaign: a branded PDF and a ZIP of CSV files.
    Never changed once built; a later milestone or request makes the next version."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="delivery_packages")
    version = models.PositiveIntegerField(help_text="1, 2, 3… per campaign.")
    milestone = models.CharField(max_length=20, choices=Milestone.choices)
    milestone_event = models.ForeignKey(
        AuditEvent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The approval this package answers to (empty for one built on demand).",
    )
    pdf = models.FileField(storage=deliverables_storage, max_length=300)
    archive = models.FileField("ZIP", storage=deliverables_storage, max_length=300)
    pdf_bytes = models.PositiveIntegerField(default=0)
    archive_bytes = models.PositiveIntegerField(default=0)
    contents = models.JSONField(default=dict, blank=True, help_text="What went in: ids and counts.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "version"], name="one_package_per_campaign_version")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} — package v{self.version}"


class ClientReportSettings(models.Model):
    """How a client receives its reports. Without a row: no recipients, reviewed, UTC."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="report_settings")
    recipients = models.TextField(
        blank=True, help_text="Email addresses the client's reports go to, one per line or comma-separated."
    )
    timezone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA name, e.g. Europe/Berlin: report periods end at midnight here. Empty: UTC.",
    )
    send_without_review = models.BooleanField(
        default=False,
        help_text="Send reports as soon as they are built. Off: each waits for an operator's approval.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "client report settings"
        verbose_name_plural = "client report settings"

    def __str__(self) -> str:
        return f"Report settings of {self.client}"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly (Monday to Sunday)"
    MONTHLY = "monthly", "Monthly (calendar month)"


class ReportSchedule(models.Model):
    """A report due after each week or month, for one campaign or for all of a client's campaigns."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="report_schedules")
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_schedules",
        help_text="Empty: one report covering all of the client's running campaigns.",
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client_id", "campaign_id", "frequency"]

    def __str__(self) -> str:
        scope = self.campaign.name if self.campaign_id else f"all campaigns of {self.client}"
        return f"{self.get_frequency_display().split(' ')[0]} report: {scope}"


class ReportState(models.TextChoices):
    DRAFT = "draft", "Draft (waiting for review)"
    APPROVED = "approved", "Approved (sending)"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"


class ClientReport(models.Model):
    """One period's report. Its numbers are frozen when it is built (the dashboard's selectors at
    that moment); the commentary may change while it is a draft, and the PDF follows it."""

    schedule = models.ForeignKey(
        ReportSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="client_reports")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="client_reports"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="The period's last day (inclusive), in the report's time zone.")
    timezone = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=ReportState.choices, default=ReportState.DRAFT)
    numbers = models.JSONField(default=dict, blank=True)
    commentary = models.TextField(blank=True, help_text="The agency's words to the client, on page one.")
    pdf = models.FileField(storage=deliverables_storage, max_length=300, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="Who it went to.")
    built_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_rationale = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "period_start"],
                condition=Q(schedule__isnull=False),
                name="one_report_per_schedule_period",
            )
        ]
        indexes = [models.Index(fields=["state", "built_at"], name="client_report_state_built")]

    def __str__(self) -> str:
        scope = self.campaign.name if self.campaign_id else str(self.client)
        return f"{scope} — {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

    @property
    def is_reviewed(self) -> bool:
        """Approved, sent or skipped: a record now, its commentary no longer edited."""
        return self.state != ReportState.DRAFT
