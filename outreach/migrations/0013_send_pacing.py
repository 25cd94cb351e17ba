# Written by hand (issue 18 pts 5 and 8): a campaign's send window and per-domain limit, and the time
# a mailbox's health counts from (an approver's resume).

import datetime

import django.db.models.deletion
from django.db import migrations, models

import outreach.models.pacing


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("outreach", "0012_mailbox_pool"),
    ]

    operations = [
        migrations.CreateModel(
            name="SendSchedule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "send_days",
                    models.CharField(
                        default="01234",
                        help_text="Days a lead may be emailed, in the lead's time zone: digits, Monday=0 … Sunday=6.",
                        max_length=7,
                        validators=[outreach.models.pacing._validate_days],
                    ),
                ),
                (
                    "window_start",
                    models.TimeField(default=datetime.time(9, 0), help_text="In the lead's time zone."),
                ),
                (
                    "window_end",
                    models.TimeField(
                        default=datetime.time(17, 0), help_text="In the lead's time zone; after the start."
                    ),
                ),
                (
                    "domain_daily_limit",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text=(
                            "Emails a day to one recipient company domain (0: no limit; empty: AICMO_DOMAIN_DAILY_LIMIT)."
                        ),
                        null=True,
                    ),
                ),
                (
                    "campaign",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="send_schedule",
                        to="campaigns.campaign",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("window_start__lt", models.F("window_end"))),
                        name="send_window_starts_before_end",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="sendingmailbox",
            name="health_since",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Bounces and complaints count from here (an approver's resume).",
                null=True,
            ),
        ),
    ]
