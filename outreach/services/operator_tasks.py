"""The only code that writes operator tasks: generation from the calendar, the task lifecycle,
metric entries, follow-ups, overdue detection and the weekly escalation to the campaign owner."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from campaigns.actors import acting_user
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.ids import campaign_id_of
from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign, CampaignState, User
from campaigns.services.audit import record_audit_event
from campaigns.timezones import zone_or_utc
from creative.models import CreativeVariant
from creative.selectors import approved_creatives
from creative.services import ensure_creative_sendable
from strategy.models import CalendarItem
from strategy.selectors import calendar_items_for

from ..models.operator_tasks import (
    PROOF_URL_VALIDATOR,
    MetricEntry,
    OperatorTask,
    OperatorTaskState,
    OperatorTaskType,
)
from ..selectors.operator_tasks import local_day_bounds, overdue_tasks
from ..sop_library import SOP, get_sop

__all__ = [
    "FOLLOW_UP_OFFSETS",
    "MANUAL_SOCIAL_PLATFORMS",
    "RUNNABLE_CAMPAIGN_STATES",
    "OperatorTaskGenerationReport",
    "assign_task",
    "complete_task",
    "create_reply_task",
    "escalate_overdue_tasks",
    "fail_task",
    "generate_operator_tasks",
    "is_manual_calendar_item",
    "mark_overdue_tasks",
    "record_metrics",
    "skip_task",
    "sop_content_kind",
    "start_task",
]

logger = logging.getLogger(__name__)

# Platforms we never post to automatically; email is automatic except newsletters.
MANUAL_SOCIAL_PLATFORMS = ("linkedin", "instagram", "x")
# Operator work happens only while a campaign runs: not before approval, not while paused or after.
RUNNABLE_CAMPAIGN_STATES = (CampaignState.APPROVED, CampaignState.ACTIVE)
FOLLOW_UP_OFFSETS = (("+2h", dt.timedelta(hours=2)), ("+24h", dt.timedelta(hours=24)))
_SOP_KINDS = ("carousel", "reel", "story", "thread")


# --- helpers ---------------------------------------------------------------------------------------


def _ensure_campaign_runnable(campaign: Campaign, doing: str) -> None:
    if campaign.state in RUNNABLE_CAMPAIGN_STATES:
        return
    hint = {
        CampaignState.PAUSED: "resume it first",
        CampaignState.COMPLETED: "it has ended",
        CampaignState.CANCELLED: "it was cancelled",
    }.get(campaign.state, "approve it first")
    raise DomainError(
        f"Campaign {campaign.pk} is {campaign.get_state_display().lower()}: cannot {doing} "
        f"({hint}). Operator tasks run only for approved or active campaigns.",
        field="campaign",
        state=campaign.state,
    )


def _task_id(task: OperatorTask | int) -> int:
    return task.pk if isinstance(task, OperatorTask) else int(task)


def _lock_task(task: OperatorTask | int) -> OperatorTask:
    task_id = _task_id(task)
    try:
        return OperatorTask.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=task_id)
    except OperatorTask.DoesNotExist:
        raise DomainError(f"Operator task {task_id} does not exist.") from None


def _transition(task: OperatorTask, name: str, label: str) -> None:
    method = getattr(task, name)
    if not can_proceed(method):
        sources = sorted({str(t.source) for t in getattr(type(task), name)._django_fsm.transitions.values()})
        raise TransitionNotAllowedError(
            f"Cannot {label} operator task {task.pk}: it is {task.state}; "
            f"{label} is allowed only from: {', '.join(sources)}.",
            state=task.state,
            transition=name,
        )
    method()


def _sop_snapshot(sop: SOP) -> dict[str, Any]:
    return sop.as_dict()


def _creative_snapshot(variant: CreativeVariant) -> dict[str, Any]:
    return {
        "id": variant.pk,
        "generation": variant.generation,
        "subject": variant.subject,
        "preheader": variant.preheader,
        "body": variant.body,
        "cta": variant.cta,
        "hashtags": list(variant.hashtags or []),
        "media_notes": variant.media_notes,
    }


def sop_content_kind(platform: str, content_type: str) -> str:
    """The SOP flavour for a calendar content type ("reply thread" → thread, else post)."""
    words = (content_type or "").lower()
    if platform == "email":
        return "newsletter"
    return next((kind for kind in _SOP_KINDS if kind in words), "post")


def is_manual_calendar_item(item: CalendarItem) -> bool:
    if item.platform in MANUAL_SOCIAL_PLATFORMS:
        return True
    return item.platform == "email" and "newsletter" in (item.content_type or "").lower()


# --- generation ------------------------------------------------------------------------------------


@dataclass
class OperatorTaskGenerationReport:
    created: list[OperatorTask] = field(default_factory=list)
    already_existing: int = 0
    without_approved_creative: int = 0
    manual_items: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "already_existing": self.already_existing,
            "without_approved_creative": self.without_approved_creative,
            "manual_items": self.manual_items,
        }


def _approved_creative_picker(campaign: Campaign):
    """For each platform: approved creative tied to a calendar item (newest decision first), and a
    pool of approved creative tied to no item, handed out in turn to items with none of their own."""
    linked: dict[int, CreativeVariant] = {}
    pools: dict[str, list[CreativeVariant]] = {}
    turns: dict[str, int] = {}
    variants = approved_creatives(campaign).select_related("brief").order_by("-decided_at", "-id")
    for variant in variants:
        item_id = variant.brief.calendar_item_id
        if item_id is not None:
            linked.setdefault(item_id, variant)
        else:
            pools.setdefault(variant.platform, []).append(variant)
    for pool in pools.values():
        pool.sort(key=lambda v: v.pk)

    def pick(item: CalendarItem) -> CreativeVariant | None:
        if item.pk in linked and linked[item.pk].platform == item.platform:
            return linked[item.pk]
        pool = pools.get(item.platform)
        if not pool:
            return None
        turn = turns.get(item.platform, 0)
        turns[item.platform] = turn + 1
        return pool[turn % len(pool)]

    return pick


def generate_operator_tasks(
    *, campaign: Campaign | int, actor: User | None = None
) -> OperatorTaskGenerationReport:
    """One POST task per calendar item (from today on) on a platform we post to by hand (LinkedIn,
    Instagram, X, email newsletters) that has approved creative. Idempotent: a calendar item that
    already has its task is left alone, so running it again creates nothing new."""
    campaign_id = campaign_id_of(campaign)
    report = OperatorTaskGenerationReport()
    now = timezone.now()
    with transaction.atomic():
        try:
            locked = campaign_for_update(campaign_id)
        except Campaign.DoesNotExist:
            raise DomainError(f"Campaign {campaign_id} does not exist.") from None
        _ensure_campaign_runnable(locked, "generate operator tasks")
        start_of_today, _ = local_day_bounds(locked.timezone, now)
        items = [
            item
            for item in calendar_items_for(locked).filter(scheduled_at__gte=start_of_today)
            if is_manual_calendar_item(item)
        ]
        report.manual_items = len(items)
        existing = set(
            OperatorTask.objects.filter(calendar_item__in=items, task_type=OperatorTaskType.POST).values_list(
                "calendar_item_id", flat=True
            )
        )
        pick = _approved_creative_picker(locked)
        for item in items:
            if item.pk in existing:
                report.already_existing += 1
                continue
            variant = pick(item)
            if variant is None:
                report.without_approved_creative += 1
                continue
            variant = ensure_creative_sendable(variant=variant, campaign=locked)  # only approved creative
            sop = get_sop(item.platform, sop_content_kind(item.platform, item.content_type))
            task = OperatorTask(
                campaign=locked,
                task_type=OperatorTaskType.POST,
                platform=item.platform,
                content_type=item.content_type,
                title=f"{sop.title}: {item.theme}"[:300],
                idempotency_key=f"calendar-item:{item.pk}:post",
                sop_key=sop.key,
                sop_version=sop.version,
                instructions=_sop_snapshot(sop),
                creative_snapshot=_creative_snapshot(variant),
                calendar_item=item,
                creative=variant,
                due_at=item.scheduled_at,
                created_by=acting_user(actor),
                created_at=now,
                updated_at=now,
            )
            task.save()
            report.created.append(task)
        record_audit_event(
            verb="task.generated",
            actor=actor,
            campaign=locked,
            target=locked,
            metadata={**report.as_dict(), "task_ids": [t.pk for t in report.created]},
        )
    logger.info("campaign %s: operator tasks %s", campaign_id, report.as_dict())
    return report


# --- lifecycle ---------------------------------------------------------------------------------------


def _audit_task(verb: str, task: OperatorTask, actor: User | None, rationale: str = "", **metadata) -> None:
    record_audit_event(
        verb=verb,
        actor=actor,
        campaign=task.campaign,
        target=task,
        rationale=rationale,
        metadata={"task_type": task.task_type, "platform": task.platform, **metadata},
    )


def _start_locked(task: OperatorTask, actor: User | None, now: dt.datetime) -> None:
    _ensure_campaign_runnable(task.campaign, f"start operator task {task.pk}")
    _transition(task, "start", "start")
    task.started_at = now
    if task.assignee_id is None and acting_user(actor) is not None:
        task.assignee = actor  # whoever starts unassigned work owns it


def start_task(*, task: OperatorTask | int, actor: User | None = None) -> OperatorTask:
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_task(task)
        _start_locked(locked, actor, now)
        locked.updated_at = now
        locked.save(update_fields=["state", "started_at", "assignee", "updated_at"])
        _audit_task("task.started", locked, actor)
    return locked


def _clean_proof(proof_url: str, proof_text: str) -> tuple[str, str]:
    proof_url, proof_text = (proof_url or "").strip(), (proof_text or "").strip()
    if not proof_url and not proof_text:
        raise DomainError(
            "Completing a task needs proof: the published URL (proof_url) or a note of what was done "
            "(proof_text).",
            field="proof_url",
        )
    if proof_url:
        try:
            PROOF_URL_VALIDATOR(proof_url)
        except ValidationError:
            raise DomainError(
                f"proof_url {proof_url[:200]!r} is not a valid http(s) URL; paste the link to the "
                "published post, or describe what was done in proof_text.",
                field="proof_url",
            ) from None
        if len(proof_url) > 1000:
            raise DomainError("proof_url is longer than 1000 characters.", field="proof_url")
    return proof_url, proof_text


def complete_task(
    *, task: OperatorTask | int, proof_url: str = "", proof_text: str = "", actor: User | None = None
) -> OperatorTask:
    """Mark done with proof (a pending task is started first). Completing a post creates its
    engagement follow-ups at +2 h and +24 h after completion, once."""
    proof_url, proof_text = _clean_proof(proof_url, proof_text)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_task(task)
        if locked.state == OperatorTaskState.PENDING:
            _start_locked(locked, actor, now)
        _transition(locked, "complete", "complete")
        locked.proof_url, locked.proof_text = proof_url, proof_text
        locked.completed_at, locked.completed_by = now, acting_user(actor)
        locked.updated_at = now
        locked.save()
        follow_ups = (
            _create_follow_ups(locked, actor, now) if locked.task_type == OperatorTaskType.POST else []
        )
        _audit_task(
            "task.completed",
            locked,
            actor,
            proof_url=proof_url,
            has_proof_text=bool(proof_text),
            follow_up_ids=[t.pk for t in follow_ups],
        )
    return locked


def _create_follow_ups(
    parent: OperatorTask, actor: User | None, completed_at: dt.datetime
) -> list[OperatorTask]:
    if parent.campaign.state not in RUNNABLE_CAMPAIGN_STATES:
        logger.info(
            "task %s: no follow-ups, campaign %s is %s", parent.pk, parent.campaign_id, parent.campaign.state
        )
        return []
    sop = get_sop("engagement", "follow_up")
    keys = {label: f"task:{parent.pk}:engagement:{label}" for label, _ in FOLLOW_UP_OFFSETS}
    existing = set(
        OperatorTask.objects.filter(idempotency_key__in=keys.values()).values_list(
            "idempotency_key", flat=True
        )
    )
    created = []
    for label, offset in FOLLOW_UP_OFFSETS:
        if keys[label] in existing:
            continue
        task = OperatorTask(
            campaign=parent.campaign,
            task_type=OperatorTaskType.ENGAGEMENT,
            platform=parent.platform,
            content_type=parent.content_type,
            title=f"Engage with responses ({label.replace('h', ' h')}): {parent.title}"[:300],
            idempotency_key=keys[label],
            sop_key=sop.key,
            sop_version=sop.version,
            instructions=_sop_snapshot(sop),
            creative_snapshot=parent.creative_snapshot,
            creative=parent.creative,
            parent=parent,
            due_at=completed_at + offset,
            assignee=acting_user(actor) or parent.assignee,
            created_by=acting_user(actor),
            created_at=completed_at,
            updated_at=completed_at,
        )
        task.save()
        created.append(task)
    return created


def _require_reason(reason: str, doing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"A reason is required to {doing} an operator task.", field="reason")
    return reason[:4000]


def _finish_without_doing(task, reason, actor, *, name: str, verb: str) -> OperatorTask:
    reason = _require_reason(reason, name)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_task(task)
        _transition(locked, name, name)
        locked.outcome_reason = reason
        locked.completed_at, locked.completed_by = now, acting_user(actor)
        locked.updated_at = now
        locked.save(update_fields=["state", "outcome_reason", "completed_at", "completed_by", "updated_at"])
        _audit_task(verb, locked, actor, rationale=reason)
    return locked


def fail_task(*, task: OperatorTask | int, reason: str, actor: User | None = None) -> OperatorTask:
    """The operator could not do it (account locked, platform down…): closed, with the reason."""
    return _finish_without_doing(task, reason, actor, name="fail", verb="task.failed")


def skip_task(*, task: OperatorTask | int, reason: str, actor: User | None = None) -> OperatorTask:
    """Deliberately not done (slot dropped, duplicate…): closed, with the reason."""
    return _finish_without_doing(task, reason, actor, name="skip", verb="task.skipped")


def assign_task(
    *, task: OperatorTask | int, assignee: User | None, actor: User | None = None
) -> OperatorTask:
    if assignee is not None and not assignee.is_staff:
        raise DomainError("Operator tasks are assigned to agency staff only.", field="assignee")
    with transaction.atomic():
        locked = _lock_task(task)
        if not locked.is_open:
            raise TransitionNotAllowedError(
                f"Operator task {locked.pk} is {locked.state}; only open tasks can be reassigned.",
                state=locked.state,
            )
        before = locked.assignee_id
        if before == (assignee.pk if assignee else None):
            return locked
        locked.assignee = assignee
        locked.updated_at = timezone.now()
        locked.save(update_fields=["assignee", "updated_at"])
        _audit_task(
            "task.assigned", locked, actor, **{"from": before, "to": assignee.pk if assignee else None}
        )
    return locked


METRIC_FIELDS = ("impressions", "engagements", "clicks")


def record_metrics(
    *,
    task: OperatorTask | int,
    impressions: Any = 0,
    engagements: Any = 0,
    clicks: Any = 0,
    note: str = "",
    recorded_at: dt.datetime | None = None,
    actor: User | None = None,
) -> MetricEntry:
    """One manual reading of the platform's numbers for a task (several per task are fine)."""
    values = {"impressions": impressions, "engagements": engagements, "clicks": clicks}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DomainError(f"{name} must be a whole number of 0 or more, got {value!r}.", field=name)
    now = timezone.now()
    recorded_at = recorded_at or now
    if recorded_at > now + dt.timedelta(minutes=5):
        raise DomainError("recorded_at is in the future.", field="recorded_at")
    with transaction.atomic():
        locked = _lock_task(task)
        entry = MetricEntry.objects.create(
            task=locked,
            campaign=locked.campaign,
            note=(note or "").strip()[:500],
            recorded_at=recorded_at,
            recorded_by=acting_user(actor),
            **values,
        )
        _audit_task("task.metrics_recorded", locked, actor, entry_id=entry.pk, **values)
    return entry


# --- beat: overdue detection and weekly escalation ----------------------------------------------------


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


# --- reply inbox -----------------------------------------------------------------------------------


def create_reply_task(
    *, campaign: Campaign, key: str, title: str, how: list[str], due_at: dt.datetime
) -> tuple[OperatorTask, bool]:
    """A task the reply inbox hands to a person (answer an interested reply, review a referred
    lead). Once per ``key``: the same reply seen again finds its task. Made whatever the campaign's
    state: a lead who wrote back is answered even while the campaign is paused."""
    now = timezone.now()
    task, created = OperatorTask.objects.get_or_create(
        idempotency_key=key[:120],
        defaults={
            "campaign": campaign,
            "task_type": OperatorTaskType.REPLY,
            "title": title[:300],
            "instructions": {
                "key": "reply",
                "version": None,
                "title": title[:300],
                "where": "Admin → Outreach → Inbound replies (the reply inbox).",
                "how": how,
                "tips": ["Answer from the inbox: it goes out through the same mailbox, in the same thread."],
                "common_mistakes": ["Answering from another mailbox, which breaks the thread."],
            },
            "due_at": due_at,
            "created_at": now,
            "updated_at": now,
        },
    )
    if created:
        record_audit_event(
            verb="task.created", campaign=campaign, target=task, metadata={"key": task.idempotency_key}
        )
    return task, created
