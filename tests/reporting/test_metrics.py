"""Campaign metrics on a seeded campaign with known counts: each number checked by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from outreach.models import MessageState, MetricEntry, OperatorTask, StepVariant
from reporting.selectors.metrics import campaign_metrics, list_metrics_for_campaigns, metrics_for_campaigns
from reporting.selectors.trend import daily_trend
from tests.reporting.conftest import add_leads, add_messages


def add_tasks(campaign, states_and_due: list[tuple[str, str, dt.datetime]]) -> list[OperatorTask]:
    now = timezone.now()
    return OperatorTask.objects.bulk_create(
        OperatorTask(
            campaign=campaign,
            task_type=task_type,
            title=f"Task {i}",
            idempotency_key=f"seed-{campaign.pk}-{i}",
            due_at=due_at,
            state=state,
            proof_text="posted" if state == "done" else "",
            created_at=now,
            updated_at=now,
        )
        for i, (task_type, state, due_at) in enumerate(states_and_due)
    )


@pytest.fixture
def seeded(ab_campaign):
    """Campaign in New York time; now is 2026-03-02 10:00 UTC = 05:00 local."""
    campaign, (variant_a, variant_b) = ab_campaign
    Campaign.objects.filter(pk=campaign.pk).update(timezone="America/New_York", target_clients=10)
    campaign.refresh_from_db()
    now = timezone.now()
    add_leads(campaign, {"new": 3, "qualified": 2, "won": 1, "lost": 2})
    # Today (local): 10 live sends with engagement, 3 dry-run recordings.
    add_messages(
        campaign,
        variant_a,
        n=10,
        sent_at=now - dt.timedelta(hours=1),
        events={"opened": 4, "clicked": 2, "replied": 1, "bounced": 1, "complained": 1},
    )
    add_messages(campaign, variant_a, n=3, dry_run=True, sent_at=now - dt.timedelta(hours=1))
    # 04:00 UTC is 23:00 yesterday in New York: in the last 7 days, not today. A soft bounce
    # does not count as a bounce.
    add_messages(
        campaign,
        variant_b,
        n=6,
        sent_at=now.replace(hour=4),
        events={"replied": 2, "bounced": 1},
        hard_bounce=False,
    )
    # Ten days ago: lifetime only.
    add_messages(campaign, variant_b, n=20, sent_at=now - dt.timedelta(days=10), events={"replied": 5})
    add_messages(campaign, variant_a, n=2, state=MessageState.FAILED, sent_at=now - dt.timedelta(hours=2))
    add_messages(campaign, variant_a, n=1, state=MessageState.DEAD, sent_at=now - dt.timedelta(days=2))
    add_messages(campaign, variant_a, n=4, state=MessageState.CANCELLED, sent_at=now - dt.timedelta(hours=3))
    tasks = add_tasks(
        campaign,
        [
            ("post", "done", now - dt.timedelta(days=1)),
            ("post", "done", now - dt.timedelta(days=1)),
            ("engagement", "done", now - dt.timedelta(days=1)),
            ("post", "pending", now - dt.timedelta(hours=1)),  # overdue
            ("post", "pending", now + dt.timedelta(days=1)),
            ("escalation", "done", now - dt.timedelta(days=1)),  # internal: not counted
        ],
    )
    MetricEntry.objects.bulk_create(
        [
            MetricEntry(
                task=tasks[0], campaign=campaign, impressions=100, engagements=10, clicks=5, recorded_at=now
            ),
            MetricEntry(
                task=tasks[1], campaign=campaign, impressions=50, engagements=4, clicks=1, recorded_at=now
            ),
        ]
    )
    return campaign


def test_every_metric_equals_the_hand_computed_value(seeded, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        metrics = campaign_metrics(seeded)
    # Leads: 8 seeded + 46 created as contacted by the message seeding.
    assert metrics.leads_total == 54
    assert metrics.by_state["contacted"] == 46 and metrics.by_state["lost"] == 2
    assert metrics.qualified == 3  # 2 qualified + 1 won
    assert metrics.won == 1
    assert metrics.conversion_rate == round(3 / 54, 4)
    assert metrics.goal_progress == 0.3

    today = metrics.today
    assert (today.sent, today.live_sent, today.dry_run_recorded) == (13, 10, 3)
    assert (today.failed, today.dead, today.skipped_or_cancelled) == (2, 0, 4)
    assert (today.opened, today.clicked, today.replied, today.bounced, today.complained) == (4, 2, 1, 1, 1)
    assert (today.open_rate, today.click_rate, today.reply_rate) == (0.4, 0.2, 0.1)
    assert (today.bounce_rate, today.complaint_rate) == (0.1, 0.1)

    week = metrics.last_days
    assert (week.sent, week.live_sent, week.dry_run_recorded) == (19, 16, 3)
    assert (week.failed, week.dead, week.skipped_or_cancelled) == (2, 1, 4)
    assert (week.replied, week.bounced) == (3, 1)  # the soft bounce is not counted
    assert week.reply_rate == round(3 / 16, 4)

    lifetime = metrics.lifetime
    assert (lifetime.sent, lifetime.live_sent, lifetime.replied) == (39, 36, 8)

    tasks = metrics.tasks
    assert (tasks.total, tasks.done, tasks.open, tasks.overdue) == (5, 3, 2, 1)
    assert tasks.completion_rate == 0.6
    assert (tasks.impressions, tasks.engagements, tasks.clicks) == (150, 14, 6)

    data = metrics.as_dict()
    assert data["today_outreach"]["reply_rate"] == 0.1
    assert data["tasks"]["completion_rate"] == 0.6


def test_empty_campaign_has_zero_metrics(campaign_in_state):
    metrics = campaign_metrics(campaign_in_state("active", target_clients=0))
    assert metrics.leads_total == 0 and metrics.conversion_rate == 0.0 and metrics.goal_progress == 0.0
    assert metrics.today.sent == 0 and metrics.today.reply_rate == 0.0
    assert metrics.tasks.completion_rate == 0.0


def test_query_count_for_a_page_does_not_grow_with_campaigns_or_data(
    seeded, campaign_in_state, live_campaign, django_assert_max_num_queries
):
    others = [campaign_in_state("active") for _ in range(3)]
    campaign, sequence = live_campaign(leads=0)
    variant_a = StepVariant.objects.filter(step__sequence=sequence).select_related("step__sequence").first()
    add_messages(campaign, variant_a, n=5, events={"replied": 2})
    with django_assert_max_num_queries(6):
        page = metrics_for_campaigns(
            Campaign.objects.filter(pk__in=[seeded.pk, campaign.pk, *[o.pk for o in others]])
        )
    assert len(page) == 5
    assert page[seeded.pk].today.live_sent == 10
    assert page[campaign.pk].lifetime.replied == 2
    assert all(page[o.pk].leads_total == 0 for o in others)


def test_daily_trend_counts_sends_and_replies_per_local_day(seeded):
    trend = daily_trend(seeded)
    assert len(trend) == 30
    assert trend[-1].day == dt.date(2026, 3, 2)  # 05:00 in New York
    assert (trend[-1].sent, trend[-1].replied) == (13, 1)
    assert (trend[-2].sent, trend[-2].replied) == (6, 2)  # 23:00 yesterday, local
    assert sum(d.sent for d in trend) == 39


def test_list_metrics_shape_in_one_query(seeded, campaign_in_state, django_assert_num_queries):
    empty = campaign_in_state("active", target_clients=4)
    page = [seeded, empty]
    with django_assert_num_queries(1):
        numbers = list_metrics_for_campaigns(page)
    assert numbers[seeded.pk] == {
        "current_leads": 54,
        "qualified_leads": 3,
        "conversion_rate": round(3 / 54, 4),
        "goal_progress": 0.3,
    }
    assert numbers[empty.pk] == {
        "current_leads": 0,
        "qualified_leads": 0,
        "conversion_rate": 0.0,
        "goal_progress": 0.0,
    }
