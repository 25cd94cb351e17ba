"""bulk_update_rows: per-row values written in one statement, on SQLite and PostgreSQL."""

import datetime as dt

import pytest

from campaigns.bulk import bulk_update_rows
from campaigns.models import Campaign
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_other_rows_and_fields_are_untouched():
    a, b, untouched = CampaignFactory(name="a"), CampaignFactory(name="b"), CampaignFactory(name="c")
    a.name, a.target_clients, a.channels = "alpha", 7, ["email", "x"]
    b.name, b.target_clients, b.channels = 'beta\'s "quoted"', 0, []
    a.end_date, b.end_date = dt.date(2027, 1, 31), None
    before_objective = Campaign.objects.get(pk=a.pk).objective

    assert bulk_update_rows(Campaign, [a, b], ["name", "target_clients", "channels", "end_date"]) == 2

    fresh_a, fresh_b = Campaign.objects.get(pk=a.pk), Campaign.objects.get(pk=b.pk)
    assert (fresh_a.name, fresh_a.target_clients, fresh_a.channels, fresh_a.end_date) == (
        "alpha",
        7,
        ["email", "x"],
        dt.date(2027, 1, 31),
    )
    assert (fresh_b.name, fresh_b.target_clients, fresh_b.channels, fresh_b.end_date) == (
        'beta\'s "quoted"',
        0,
        [],
        None,
    )
    assert fresh_a.objective == before_objective
    assert Campaign.objects.get(pk=untouched.pk).name == "c"


def test_batches_split_below_the_parameter_limit(monkeypatch):
    import campaigns.bulk

    monkeypatch.setattr(campaigns.bulk, "MAX_PARAMETERS", 4)  # 2 params per row → 2 rows a statement
    rows = [CampaignFactory(name=f"n{i}") for i in range(5)]
    for i, row in enumerate(rows):
        row.name = f"renamed {i}"
    assert bulk_update_rows(Campaign, rows, ["name"]) == 5
    assert sorted(Campaign.objects.filter(pk__in=[r.pk for r in rows]).values_list("name", flat=True)) == [
        f"renamed {i}" for i in range(5)
    ]


def test_nothing_to_write_is_a_no_op():
    assert bulk_update_rows(Campaign, [], ["name"]) == 0


def test_history_rows_copy_the_rows_as_they_are_now():
    from django.utils import timezone

    from campaigns.bulk import insert_history_rows

    first, second, other = CampaignFactory(name="one"), CampaignFactory(name="two"), CampaignFactory()
    Campaign.objects.filter(pk__in=[first.pk, second.pk]).update(name="renamed")
    before_other = other.history.count()
    when = timezone.now()

    assert insert_history_rows(Campaign, [first.pk, second.pk], reason="bulk rename", when=when) == 2

    for campaign in (first, second):
        latest = campaign.history.order_by("-history_id").first()
        assert (latest.name, latest.history_type, latest.history_change_reason) == (
            "renamed",
            "~",
            "bulk rename",
        )
        assert latest.history_date == when and latest.history_user is None
    assert other.history.count() == before_other
    assert insert_history_rows(Campaign, [], reason="x", when=when) == 0


def test_a_guarded_update_returns_exactly_the_rows_it_changed():
    from campaigns.bulk import update_returning_pks

    draft, other_draft, active = CampaignFactory(name="a"), CampaignFactory(name="b"), CampaignFactory()
    Campaign.objects.filter(pk=active.pk).update(state="active")
    guarded = Campaign.objects.filter(pk__in=[draft.pk, active.pk], state="draft")

    changed = update_returning_pks(guarded, name="renamed")

    assert changed == [draft.pk]
    names = dict(Campaign.objects.values_list("pk", "name"))
    assert (names[draft.pk], names[other_draft.pk]) == ("renamed", "b")
    assert names[active.pk] != "renamed"
    assert update_returning_pks(Campaign.objects.filter(pk__in=[]), name="x") == []


def test_json_documents_keep_their_nesting_text_and_nulls():
    from leads.models import Lead

    campaign = CampaignFactory()
    first, second = (
        Lead.objects.create(campaign=campaign, email=f"{n}@x.example", normalized_email=f"{n}@x.example")
        for n in ("one", "two")
    )
    first.enrichment = {"company": "Müller & Söhne", "mx": ["a.example", "b.example"], "n": {"x": 1.5}}
    second.enrichment = {"quote": 'say "hi"', "flag": None, "empty": {}}
    assert bulk_update_rows(Lead, [first, second], ["enrichment"]) == 2
    assert Lead.objects.get(pk=first.pk).enrichment == first.enrichment
    assert Lead.objects.get(pk=second.pk).enrichment == second.enrichment


def test_times_decimals_and_null_dates_keep_their_exact_values():
    """Microseconds and time zones survive the trip (PostgreSQL reads them from the JSON text)."""
    from decimal import Decimal

    from django.utils import timezone

    from leads.models import Lead

    campaign = CampaignFactory()
    lead = Lead.objects.create(campaign=campaign, email="t@x.example", normalized_email="t@x.example")
    when = dt.datetime(2026, 3, 2, 23, 59, 58, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    lead.next_action_at, lead.score, lead.updated_at = when, 0.123456789, timezone.now()
    assert bulk_update_rows(Lead, [lead], ["next_action_at", "score", "updated_at"]) == 1
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.next_action_at, fresh.score, fresh.updated_at) == (when, 0.123456789, lead.updated_at)

    lead.next_action_at = None
    bulk_update_rows(Lead, [lead], ["next_action_at"])
    assert Lead.objects.get(pk=lead.pk).next_action_at is None

    campaign.target_mrr = Decimal("12345.67")
    assert bulk_update_rows(Campaign, [campaign], ["target_mrr"]) == 1
    assert Campaign.objects.get(pk=campaign.pk).target_mrr == Decimal("12345.67")
