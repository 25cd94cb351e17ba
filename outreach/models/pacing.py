"""A campaign's send window and per-domain limit (docs/senders.md §4). No row: the defaults
(Monday to Friday, 09:00-17:00 in the lead's time zone; AICMO_DOMAIN_DAILY_LIMIT)."""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models

from campaigns.models import Campaign

__all__ = ["SendSchedule"]

WEEKDAY_LETTERS = "0123456"  # Monday=0 … Sunday=6, as datetime.weekday()


def _validate_days(value: str) -> None:
    if not value or any(c not in WEEKDAY_LETTERS for c in value) or len(set(value)) != len(value):
        raise ValidationError("Days as digits, Monday=0 … Sunday=6, each once (e.g. 01234).")


class SendSchedule(models.Model):
    """Outreach's own table for the campaign (campaigns imports no other app)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="send_schedule")
    send_days = models.CharField(
        max_length=7,
        default="01234",
        validators=[_validate_days],
        help_text="Days a lead may be emailed, in the lead's time zone: digits, Monday=0 … Sunday=6.",
    )
    window_start = models.TimeField(default=time(9, 0), help_text="In the lead's time zone.")
    window_end = models.TimeField(default=time(17, 0), help_text="In the lead's time zone; after the start.")
    domain_daily_limit = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Emails a day to one recipient company domain (0: no limit; empty: AICMO_DOMAIN_DAILY_LIMIT)."
        ),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__lt=models.F("window_end")),
                name="send_window_starts_before_end",
            )
        ]

    def __str__(self) -> str:
        return f"send schedule of campaign {self.campaign_id}"

    def clean(self) -> None:
        if self.window_start and self.window_end and self.window_start >= self.window_end:
            raise ValidationError({"window_end": "The window must end after it starts."})
