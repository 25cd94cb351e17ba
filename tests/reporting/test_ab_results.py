"""A/B results per step from real Message/MessageEvent rows: a winner only when significant."""

from __future__ import annotations

from reporting.selectors.ab_results import ab_results
from tests.reporting.conftest import add_messages


def test_10_vs_12_replies_of_200_names_no_winner(ab_campaign, django_assert_max_num_queries):
    campaign, (variant_a, variant_b) = ab_campaign
    add_messages(campaign, variant_a, n=200, events={"replied": 10, "opened": 60})
    add_messages(campaign, variant_b, n=200, events={"replied": 12, "opened": 64})
    add_messages(campaign, variant_b, n=5, dry_run=True)  # not counted: never reached anyone
    with django_assert_max_num_queries(3):
        (step,) = ab_results(campaign)
    a, b = step.variants
    assert (a.label, a.sent, a.replied, a.opened, a.reply_rate) == ("A", 200, 10, 60, 0.05)
    assert (b.label, b.sent, b.replied, b.reply_rate) == ("B", 200, 12, 0.06)
    assert step.reply.winner is None and not step.reply.significant
    assert step.reply.best == "B"
    assert "12/200" in step.reply.explanation and "10/200" in step.reply.explanation
    assert step.open.winner is None


def test_10_vs_40_replies_names_the_right_winner(ab_campaign):
    campaign, (variant_a, variant_b) = ab_campaign
    add_messages(campaign, variant_a, n=200, events={"replied": 10, "clicked": 3})
    add_messages(campaign, variant_b, n=200, events={"replied": 40, "clicked": 9})
    (step,) = ab_results(campaign)
    assert step.reply.winner == "B" and step.reply.significant
    assert step.reply.p_value < 0.05
    assert step.variants[1].clicked == 9
    data = step.as_dict()
    assert data["reply_rate_test"]["winner"] == "B"
    assert data["variants"][1]["reply_rate"] == 0.2


def test_campaign_without_sequences_has_no_ab_results(campaign_in_state):
    assert ab_results(campaign_in_state("active")) == []
