from __future__ import annotations

import datetime as dt
import json

import pytest

from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent
from campaigns.services.transitions import complete_campaign, kill_campaign, pause_campaign
from creative import services as creative_services
from creative.models import CreativeState, CreativeVariant
from outreach import sop_library
from outreach.models import MetricEntry, OperatorTask, OperatorTaskState, OperatorTaskType
from outreach.selectors.operator_tasks import campaign_task_stats
from outreach.services.operator_tasks.generation import generate_operator_tasks
from outreach.services.operator_tasks.lifecycle import complete_task, fail_task, skip_task, start_task
from outreach.services.operator_tasks.metrics import record_metrics
from outreach.services.operator_tasks.rules import sop_content_kind
from outreach.sop_library import get_sop
from strategy.models import CalendarItem
from strategy.services import update_calendar_item

pytestmark = pytest.mark.django_db


def _post_task(campaign):
    report = generate_operator_tasks(campaign=campaign)
    assert len(report.created) == 1
    return report.created[0]


def test_a_task_is_generated_for_the_calendar_item_with_approved_creative(
    campaign_with_approved_post, operator
):
    campaign = campaign_with_approved_post()
    approved = CreativeVariant.objects.get(campaign=campaign, state=CreativeState.APPROVED)
    item = approved.brief.calendar_item

    report = generate_operator_tasks(campaign=campaign, actor=operator)

    assert [t.calendar_item_id for t in report.created] == [item.pk]
    task = report.created[0]
    assert task.task_type == OperatorTaskType.POST and task.state == OperatorTaskState.PENDING
    assert task.platform == "linkedin" and task.due_at == item.scheduled_at
    assert task.creative_id == approved.pk
    assert task.creative_snapshot["body"] == approved.body
    # Other LinkedIn slots have no approved creative of their own and get no task.
    assert report.without_approved_creative == report.manual_items - 1 > 0
    assert AuditEvent.objects.filter(campaign=campaign, verb="task.generated", actor=operator).count() == 1


def test_the_sop_is_snapshotted_with_its_key_and_version(campaign_with_approved_post):
    task = _post_task(campaign_with_approved_post())
    sop = get_sop("linkedin", "post")
    task.refresh_from_db()
    assert (task.sop_key, task.sop_version) == (sop.key, sop.version)
    assert task.instructions == sop.as_dict()
    assert task.instructions["where"] and len(task.instructions["how"]) >= 3
    assert task.instructions["tips"] and task.instructions["common_mistakes"]


def test_no_task_for_creative_that_is_not_approved(approved_campaign, operator):
    campaign = approved_campaign()
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["linkedin"])
    assert CreativeVariant.objects.filter(campaign=campaign, state=CreativeState.IN_REVIEW).exists()

    report = generate_operator_tasks(campaign=campaign)

    assert report.created == [] and report.without_approved_creative == report.manual_items > 0
    assert not OperatorTask.objects.exists()


def test_generation_is_idempotent(campaign_with_approved_post):
    campaign = campaign_with_approved_post()
    generate_operator_tasks(campaign=campaign)
    again = generate_operator_tasks(campaign=campaign)
    assert again.created == [] and again.already_existing == 1
    assert OperatorTask.objects.filter(campaign=campaign).count() == 1


@pytest.mark.parametrize("end_state", ["paused", "completed", "cancelled"])
def test_no_tasks_for_paused_completed_or_cancelled_campaigns(
    campaign_with_approved_post, operator, end_state
):
    campaign = campaign_with_approved_post()
    if end_state == "paused":
        pause_campaign(campaign=campaign, actor=operator, rationale="hold")
    elif end_state == "completed":
        complete_campaign(campaign=campaign, actor=operator)
    else:
        kill_campaign(campaign=campaign, actor=operator, rationale="client left")
    with pytest.raises(DomainError, match=f"Campaign {campaign.pk} is {end_state}"):
        generate_operator_tasks(campaign=campaign)
    assert not OperatorTask.objects.exists()


def test_a_task_cannot_be_started_while_the_campaign_is_paused(campaign_with_approved_post, operator):
    campaign = campaign_with_approved_post()
    task = _post_task(campaign)
    pause_campaign(campaign=campaign, actor=operator, rationale="hold")
    with pytest.raises(DomainError, match="paused: cannot start operator task"):
        start_task(task=task, actor=operator)
    task.refresh_from_db()
    assert task.state == OperatorTaskState.PENDING


def test_completing_needs_proof_and_a_valid_url(campaign_with_approved_post, operator):
    task = _post_task(campaign_with_approved_post())
    start_task(task=task, actor=operator)
    with pytest.raises(DomainError, match="needs proof"):
        complete_task(task=task, actor=operator)
    with pytest.raises(DomainError, match="not a valid http"):
        complete_task(task=task, proof_url="javascript:alert(1)", actor=operator)
    task.refresh_from_db()
    assert task.state == OperatorTaskState.IN_PROGRESS and task.completed_at is None

    done = complete_task(task=task, proof_text="Posted from the company page", actor=operator)
    assert done.state == OperatorTaskState.DONE and done.proof_text == "Posted from the company page"
    assert done.completed_by == operator
    assert AuditEvent.objects.filter(verb="task.completed", target_id=str(task.pk)).count() == 1


def test_completing_a_post_creates_follow_ups_at_exactly_2_and_24_hours(
    campaign_with_approved_post, operator, frozen_now
):
    task = _post_task(campaign_with_approved_post())
    start_task(task=task, actor=operator)
    frozen_now.shift(dt.timedelta(hours=3, minutes=17))
    done = complete_task(
        task=task, proof_url="https://www.linkedin.com/feed/update/urn:li:1/", actor=operator
    )

    follow_ups = list(done.follow_ups.order_by("due_at"))
    assert [f.due_at - done.completed_at for f in follow_ups] == [
        dt.timedelta(hours=2),
        dt.timedelta(hours=24),
    ]
    assert done.completed_at == dt.datetime(2026, 3, 2, 13, 17, tzinfo=dt.UTC)
    for follow_up in follow_ups:
        assert follow_up.task_type == OperatorTaskType.ENGAGEMENT
        assert follow_up.sop_key == "engagement:follow_up" and follow_up.instructions["how"]
        assert follow_up.assignee == operator and follow_up.state == OperatorTaskState.PENDING

    # Completing again is refused and creates nothing more.
    with pytest.raises(TransitionNotAllowedError, match="it is done"):
        complete_task(task=task, proof_text="again", actor=operator)
    # Completing a follow-up creates no follow-ups of its own.
    complete_task(task=follow_ups[0], proof_text="Replied to 4 comments", actor=operator)
    assert OperatorTask.objects.filter(task_type=OperatorTaskType.ENGAGEMENT).count() == 2


def test_completing_a_pending_task_starts_it_first(campaign_with_approved_post, operator):
    task = _post_task(campaign_with_approved_post())
    done = complete_task(task=task, proof_url="https://x.com/acme/status/1", actor=operator)
    assert done.state == OperatorTaskState.DONE and done.started_at is not None
    assert done.assignee == operator


@pytest.mark.parametrize("service,state", [(fail_task, "failed"), (skip_task, "skipped")])
def test_fail_and_skip_need_a_reason(campaign_with_approved_post, operator, service, state):
    task = _post_task(campaign_with_approved_post())
    with pytest.raises(DomainError, match="reason is required"):
        service(task=task, reason="  ", actor=operator)
    closed = service(task=task, reason="Account locked by LinkedIn", actor=operator)
    assert closed.state == state and closed.outcome_reason == "Account locked by LinkedIn"
    assert not closed.follow_ups.exists()
    with pytest.raises(TransitionNotAllowedError):
        start_task(task=task, actor=operator)


def test_metric_entries_are_non_negative_and_add_up(campaign_with_approved_post, operator):
    campaign = campaign_with_approved_post()
    task = _post_task(campaign)
    with pytest.raises(DomainError, match="clicks must be a whole number of 0 or more"):
        record_metrics(task=task, impressions=10, clicks=-1, actor=operator)
    record_metrics(task=task, impressions=120, engagements=9, clicks=3, actor=operator)
    record_metrics(task=task, impressions=80, engagements=1, clicks=0, note="day 2", actor=operator)
    assert MetricEntry.objects.filter(task=task).count() == 2
    complete_task(task=task, proof_text="posted", actor=operator)

    stats = campaign_task_stats(campaign)
    assert stats["impressions"] == 200 and stats["engagements"] == 10 and stats["clicks"] == 3
    # the post is done, its two follow-ups are open
    assert (stats["done"], stats["total"], stats["open"]) == (1, 3, 2)
    assert stats["completion_rate"] == pytest.approx(1 / 3, abs=1e-4)


def test_email_newsletter_items_get_tasks_and_other_email_items_do_not(approved_campaign, operator):
    campaign = approved_campaign()
    email_items = list(
        CalendarItem.objects.filter(campaign=campaign, platform="email").order_by("scheduled_at")
    )
    assert len(email_items) >= 2
    newsletter = update_calendar_item(item=email_items[1], actor=operator, content_type="monthly newsletter")
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], variants=1)
    email = CreativeVariant.objects.get(campaign=campaign, platform="email")
    creative_services.approve_creative(variant=email, actor=operator, rationale="ok")

    report = generate_operator_tasks(campaign=campaign, actor=operator)

    assert [t.calendar_item_id for t in report.created] == [newsletter.pk]
    task = report.created[0]
    assert task.sop_key == "email:newsletter" and task.creative_snapshot["subject"] == email.subject


@pytest.mark.parametrize(
    ("platform", "content_type", "sop_key"),
    [
        ("x", "reply thread", "x:thread"),
        ("linkedin", "carousel", "linkedin:carousel"),
        ("instagram", "story with a call to action", "instagram:story"),
        ("instagram", "quote card", "instagram:post"),
        ("email", "story-led newsletter", "email:newsletter"),
    ],
)
def test_calendar_content_types_map_to_the_right_sop(platform, content_type, sop_key):
    assert get_sop(platform, sop_content_kind(platform, content_type)).key == sop_key


def test_a_new_sop_version_applies_to_new_tasks_and_never_rewrites_old_ones(
    campaign_with_approved_post, operator, tmp_path, monkeypatch
):
    campaign = campaign_with_approved_post()
    old_task = _post_task(campaign)

    v1 = json.loads((sop_library.DATA_DIR / "sops-v1.json").read_text(encoding="utf-8"))
    v2 = {**v1, "version": 2}
    v2["sops"] = {**v1["sops"], "linkedin:post": {**v1["sops"]["linkedin:post"], "where": "LinkedIn, new UI"}}
    (tmp_path / "sops-v1.json").write_text(json.dumps(v1), encoding="utf-8")
    (tmp_path / "sops-v2.json").write_text(json.dumps(v2), encoding="utf-8")
    monkeypatch.setattr(sop_library, "DATA_DIR", tmp_path)
    sop_library._load.cache_clear()
    try:
        creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["linkedin"])
        fresh = (
            CreativeVariant.objects.filter(campaign=campaign, state=CreativeState.IN_REVIEW)
            .exclude(brief__calendar_item=old_task.calendar_item)
            .first()
        )
        creative_services.approve_creative(variant=fresh, actor=operator, rationale="good")
        new_task = _post_task(campaign)
    finally:
        sop_library._load.cache_clear()

    old_task.refresh_from_db()
    assert (old_task.sop_version, new_task.sop_version) == (1, 2)
    assert new_task.instructions["where"] == "LinkedIn, new UI"
    assert old_task.instructions["where"] == v1["sops"]["linkedin:post"]["where"]
