"""Tables of the reporting app: won deals (`Outcome`) and stored weekly summaries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.models import Campaign
from leads.models import Lead


class Outcome(models.Model):
    """A won deal with its value: the revenue side of ROI. One per lead."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="outcomes")
    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="outcome")
    deal_value = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. EUR.")
    won_at = models.DateTimeField()
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-won_at"]
        indexes = [models.Index(fields=["campaign", "won_at"], name="outcome_campaign_won_at")]
        constraints = [
            models.CheckConstraint(condition=models.Q(deal_value__gte=0), name="outcome_value_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.deal_value} {self.currency} from lead #{self.lead_id}"


class WeeklySummary(models.Model):
    """One campaign's ISO week (Monday to Sunday in the campaign's time zone), rebuilt in place."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="weekly_summaries")
    week_start = models.DateField(help_text="The Monday the ISO week starts on.")
    iso_year = models.PositiveSmallIntegerField()
    iso_week = models.PositiveSmallIntegerField()
    tasks_total = models.PositiveIntegerField(default=0)
    tasks_done = models.PositiveIntegerField(default=0)
    completion_rate = models.FloatField(default=0.0)
    impressions = models.PositiveIntegerField(default=0)
    engagements = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0, help_text="Live sends.")
    dry_run_recorded = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    new_qualified_leads = models.PositiveIntegerField(default=0)
    spend = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    currency = models.CharField(max_length=3, blank=True)
    built_at = models.DateTimeField()

    class Meta:
        ordering = ["-week_start"]
        verbose_name_plural = "weekly summaries"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "week_start"], name="one_summary_per_campaign_week")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} — {self.iso_year}-W{self.iso_week:02d}"


class CampaignDashboard(Campaign):
    """No table: gives the admin a "Campaign dashboards" entry (overview and per-campaign page)."""

    class Meta:
        proxy = True
        verbose_name = "campaign dashboard"
        verbose_name_plural = "campaign dashboards"
