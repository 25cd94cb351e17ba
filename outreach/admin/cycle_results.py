"""A cycle's result as the "Run cycle (dry run)" page shows it: each number with its label and
what it means, the campaign's metrics in words, and where to look next."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from campaigns.labels import human_label
from campaigns.models import Campaign

from .cycle_preview import preview_url

__all__ = ["cycle_result", "may_run_dry_cycle", "run_cycle_links"]

# What each number of a cycle's stats means, in the order shown.
CYCLE_STAT_LABELS: dict[str, tuple[str, str]] = {
    "campaign_id": ("Campaign", ""),
    "dry_run": ("Dry run", "Yes: messages were rendered and recorded; no provider was called."),
    "skipped_cycle": ("Cycle skipped", "Why the cycle did not run (campaign not active, already running)."),
    "discovered": ("Discovered", "New leads pulled from the configured lead sources."),
    "enriched": ("Enriched and scored", "Leads enriched and scored in this cycle."),
    "enrolled": ("Enrolled", "Leads newly enrolled in the campaign's active sequences."),
    "scheduled": ("Scheduled", "Messages rendered for sequence steps that came due."),
    "recorded_dry_run": ("Recorded (dry run)", "Messages recorded as 'would be sent'."),
    "sent": ("Sent", "Emails handed to the provider (always 0 in a dry run)."),
    "failed": ("Failed", "Send attempts that failed (retried or dead)."),
    "skipped": ("Skipped", "Messages cancelled because the lead is no longer contactable."),
    "rescheduled": ("Rescheduled", "Messages moved to the next send window or the next day (caps)."),
    "cap_reached": ("Daily cap reached", "The campaign's (or mailbox's) daily cap stopped sending."),
    "paused": ("Auto-paused", "An auto-pause rule paused the campaign."),
    "pause_reason": ("Pause reason", ""),
    "errors": ("Errors", "Exceptions caught in this campaign's cycle."),
}
NOT_STAT_ROWS = ("metrics", "reasons")  # shown on their own, above and below the table


def stats_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The stats dict as table rows (label, value, help), known keys first, anything new after."""
    rows = []
    known = [key for key in CYCLE_STAT_LABELS if key in stats]
    extra = [key for key in stats if key not in CYCLE_STAT_LABELS and key not in NOT_STAT_ROWS]
    for key in known + extra:
        label, help_text = CYCLE_STAT_LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
        value = stats[key]
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = "; ".join(str(v) for v in value) or "none"
        elif value == "":
            value = "—"
        rows.append({"key": key, "label": label, "value": value, "help": help_text})
    return rows


def metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in sorted(value.items())) or "none"
        rows.append({"key": key, "label": human_label(key), "value": value})
    return rows


def cycle_result(campaign: Campaign, stats: dict[str, Any]) -> dict[str, Any]:
    messages_url = reverse("admin:outreach_message_changelist")
    return {
        "campaign": campaign,
        "rows": stats_rows(stats),
        "metrics": metric_rows(stats.get("metrics") or {}),
        "errors": stats.get("errors") or [],
        "reasons": stats.get("reasons") or [],
        "preview_url": preview_url(campaign),
        "messages_url": f"{messages_url}?campaign__id__exact={campaign.pk}&dry_run__exact=1",
        "stats": stats,
    }


def may_run_dry_cycle(request: HttpRequest) -> bool:
    """A dry run sends nothing but enrolls leads and records messages: staff who may view messages."""
    user = request.user
    return user.is_active and user.is_staff and user.has_perm("outreach.view_message")


def run_cycle_links(request: HttpRequest, campaign_param: str) -> dict[str, str]:
    url = reverse("admin:outreach_sequence_run_cycle")
    preview = preview_url()
    campaign = request.GET.get(campaign_param, "")
    if campaign.isdigit():
        return {
            "run_cycle_url": f"{url}?campaign={campaign}",
            "preview_cycle_url": f"{preview}?campaign={campaign}",
        }
    return {"run_cycle_url": url, "preview_cycle_url": preview}
