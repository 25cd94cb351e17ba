"""Beat work on operator tasks: the daily overdue stamp, and the weekly escalation of overdue tasks
to the campaign owner (a task and an email)."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign
from campaigns.services.audit import record_audit_event
from campaigns.timezones import zone_or_utc

from ...models.operator_tasks import OperatorTask, OperatorTaskType
from ...selectors.operator_tasks import overdue_tasks
from .rules import RUNNABLE_CAMPAIGN_STATES

__all__ = ["escalate_overdue_tasks", "mark_overdue_tasks"]

logger = logging.getLogger(__name__)


def mark_overdue_tasks(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Daily tick: stamp ``overdue_since`` on open tasks past their due time (once per task) and
    record one audit event per campaign. Running it again finds nothing new."""
    now = now or timezone.now()
    newly: dict[int, list[int]] = {}
    with transaction.atomic():
        fresh = overdue_tasks(now=now).filter(overdue_since__isnull=True).select_for_update(of=("self",))
        for task_id, campaign_id in fresh.values_list("pk", "campaign_id"):
            newly.setdefault(campaign_id, []).append(task_id)
        ids = [pk for pks in newly.values() for pk in pks]
        OperatorTask.objects.filter(pk__in=ids).update(overdue_since=now, updated_at=now)
        campaigns = Campaign.objects.in_bulk(list(newly))
        for campaign_id, task_ids in newly.items():
            record_audit_event(
                verb="task.overdue",
                campaign=campaigns[campaign_id],
                metadata={"task_ids": task_ids, "count": len(task_ids)},
            )
    overdue_now = overdue_tasks(now=now)
    return {
        "newly_overdue": len(ids),
        "overdue": overdue_now.count(),
        "campaigns_with_overdue": overdue_now.values("campaign_id").distinct().count(),
    }


def _iso_week_label(now: dt.datetime, tz_name: str) -> str:
    year, week, _ = now.astimezone(zone_or_utc(tz_name)).isocalendar()
    return f"{year}-W{week:02d}"


def _assignee_label(task: OperatorTask) -> str:
    return task.assignee.get_username() if task.assignee else "nobody"


def _escalation_email(campaign: Campaign, tasks: list[OperatorTask], week: str) -> tuple[str, str]:
    tz = zoneinfo.ZoneInfo(campaign.timezone) if campaign.timezone else dt.UTC
    lines = [
        f"{len(tasks)} operator task(s) of campaign “{campaign.name}” are overdue ({week}):",
        "",
        *(
            f"- #{t.pk} {t.title} — due {t.due_at.astimezone(tz):%Y-%m-%d %H:%M} {campaign.timezone}, "
            f"{t.get_state_display().lower()}, assigned to {_assignee_label(t)}"
            for t in tasks
        ),
        "",
        f"Open them: {settings.PUBLIC_BASE_URL}/admin/outreach/operatortask/my-tasks/",
    ]
    return f"[AICMO] {len(tasks)} overdue operator task(s): {campaign.name}", "\n".join(lines)


def _send_escalation_email(*, to: str, subject: str, body: str, campaign_id: int) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:  # the escalation task exists either way; a mail failure must not hide it
        logger.exception("campaign %s: escalation email to %s failed", campaign_id, to)


def escalate_overdue_tasks(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Weekly: for each running campaign with overdue tasks, one escalation task for the owner per
    ISO week (database-unique key), and an email to the owner with the list, sent after commit."""
    now = now or timezone.now()
    campaign_ids = (
        overdue_tasks(now=now)
        .exclude(task_type=OperatorTaskType.ESCALATION)
        .filter(campaign__state__in=RUNNABLE_CAMPAIGN_STATES)
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    result: dict[str, Any] = {"escalated": [], "already_escalated": [], "emails_queued": 0, "errors": {}}
    for campaign_id in sorted(set(campaign_ids)):
        try:
            outcome = _escalate_campaign(campaign_id, now)
        except Exception as exc:  # one campaign's failure never stops the others
            logger.exception("campaign %s: escalation failed", campaign_id)
            result["errors"][campaign_id] = str(exc)
            continue
        result["escalated" if outcome["created"] else "already_escalated"].append(campaign_id)
        result["emails_queued"] += outcome["email_queued"]
    return result


def _escalate_campaign(campaign_id: int, now: dt.datetime) -> dict[str, Any]:
    with transaction.atomic():
        campaign = campaign_for_update(campaign_id)
        week = _iso_week_label(now, campaign.timezone)
        key = f"escalation:campaign:{campaign.pk}:{week}"
        if OperatorTask.objects.filter(idempotency_key=key).exists():
            return {"created": False, "email_queued": 0}
        overdue = list(
            overdue_tasks(campaign=campaign, now=now)
            .exclude(task_type=OperatorTaskType.ESCALATION)
            .select_related("assignee")
        )
        if not overdue:
            return {"created": False, "email_queued": 0}
        owner = campaign.owner
        subject, body = _escalation_email(campaign, overdue, week)
        task = OperatorTask.objects.create(
            campaign=campaign,
            task_type=OperatorTaskType.ESCALATION,
            title=f"{len(overdue)} overdue operator task(s) ({week})",
            idempotency_key=key,
            instructions={
                "key": "escalation",
                "version": None,
                "title": "Clear the overdue operator tasks",
                "where": "Admin → Outreach → Operator tasks → My tasks today.",
                "how": [f"#{t.pk} {t.title} (due {t.due_at:%Y-%m-%d %H:%M} UTC)" for t in overdue],
                "tips": [
                    "Reassign tasks nobody can do; skip slots that no longer make sense, with a reason."
                ],
                "common_mistakes": ["Marking tasks done without proof of the post."],
            },
            due_at=now + dt.timedelta(days=1),
            assignee=owner if owner is not None and owner.is_staff else None,
            created_at=now,
            updated_at=now,
        )
        record_audit_event(
            verb="task.escalated",
            campaign=campaign,
            target=task,
            metadata={
                "week": week,
                "overdue_task_ids": [t.pk for t in overdue],
                "owner_id": campaign.owner_id,
            },
        )
        email_queued = 0
        if owner is not None and owner.email:
            to = owner.email
            transaction.on_commit(
                lambda: _send_escalation_email(to=to, subject=subject, body=body, campaign_id=campaign_id)
            )
            email_queued = 1
        else:
            logger.warning(
                "campaign %s: overdue tasks escalated but the campaign has no owner email", campaign_id
            )
    return {"created": True, "email_queued": email_queued}
