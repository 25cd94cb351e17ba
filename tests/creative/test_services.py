from __future__ import annotations

import pytest

from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent
from creative import services
from creative.errors import CreativeNotApprovedError
from creative.models import CreativeBrief, CreativeState, CreativeVariant
from creative.selectors import creative_descendants, creative_family
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_email_and_social_briefs_each_get_three_checked_variants_in_review(approved_campaign, operator):
    campaign = approved_campaign()
    created = services.generate_creatives(campaign=campaign, actor=operator)
    briefs = CreativeBrief.objects.filter(campaign=campaign)
    assert sorted(briefs.values_list("platform", flat=True)) == ["email", "linkedin"]
    for brief in briefs:
        variants = brief.variants.all()
        assert variants.count() == 3
        assert len({v.angle for v in variants}) == 3
        for variant in variants:
            assert variant.state == CreativeState.IN_REVIEW
            assert variant.root_id == variant.pk and variant.generation == 1
            assert variant.checks_run_at is not None
            assert variant.blocking_findings == []
            # one history row per new variant, already showing it as the root of its lineage
            assert list(variant.history.values_list("history_type", "root_id", "state")) == [
                ("+", variant.pk, CreativeState.IN_REVIEW)
            ]
    assert [v.root_id for v in created] == [v.pk for v in created]
    linkedin_brief = briefs.get(platform="linkedin")
    assert linkedin_brief.calendar_item is not None  # social briefs come from the calendar
    assert len(created) == 6
    assert AuditEvent.objects.filter(campaign=campaign, verb="creative.generated").count() == 1


def test_generation_needs_an_approved_strategy(db):
    campaign = CampaignFactory()
    with pytest.raises(DomainError, match="no approved strategy yet"):
        services.generate_creatives(campaign=campaign)
    assert not CreativeVariant.objects.exists()


def test_variant_count_is_validated(approved_campaign):
    campaign = approved_campaign()
    with pytest.raises(DomainError, match="from 1 to 5"):
        services.generate_creatives(campaign=campaign, variants=9)
    assert len(services.generate_creatives(campaign=campaign, variants=2, platforms=["email"])) == 2


def _x_variant(campaign, operator, body):
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["x"])
    variant = CreativeVariant.objects.filter(campaign=campaign, platform="x").first()
    services.reject_creative(variant=variant, actor=operator, rationale="rewrite")
    edited = services.edit_creative(variant=variant, actor=operator, body=body, hashtags=[])
    return services.submit_creative_for_review(variant=edited, actor=operator)


def test_a_300_character_x_post_cannot_be_approved_without_override(approved_campaign, operator):
    campaign = approved_campaign(channels=["email", "x"])
    variant = _x_variant(campaign, operator, "a" * 300)
    assert [f["code"] for f in variant.blocking_findings] == ["length"]
    with pytest.raises(DomainError, match="300 characters"):
        services.approve_creative(variant=variant, actor=operator)
    variant.refresh_from_db()
    assert variant.state == CreativeState.IN_REVIEW
    approved = services.approve_creative(
        variant=variant, actor=operator, override_rationale="Thread split by hand at posting time"
    )
    assert approved.state == CreativeState.APPROVED
    assert approved.override_rationale == "Thread split by hand at posting time"
    event = AuditEvent.objects.get(verb="creative.checks_overridden")
    assert event.actor == operator and event.metadata["findings"][0]["code"] == "length"


def test_editing_an_approved_email_makes_version_two_and_keeps_version_one(approved_campaign, operator):
    campaign = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    v1 = CreativeVariant.objects.filter(campaign=campaign).first()
    v1 = services.approve_creative(variant=v1, actor=operator, rationale="good")
    before = {f: getattr(v1, f) for f in ("subject", "body", "state", "decided_by_id")}

    v2 = services.edit_creative(variant=v1, actor=operator, subject="A sharper subject")

    v1.refresh_from_db()
    assert {f: getattr(v1, f) for f in before} == before
    assert v2.pk != v1.pk and v2.variant_of == v1 and v2.root_id == v1.pk and v2.generation == 2
    assert v2.state == CreativeState.DRAFT and v2.subject == "A sharper subject" and v2.body == v1.body
    v3 = services.edit_creative(variant=v2, actor=operator, subject="Edited in place")
    assert v3.pk == v2.pk  # a draft is edited in place
    tree = creative_family(v2)
    assert [(depth, v.pk) for depth, v in tree.walk()] == [(0, v1.pk), (1, v2.pk)]
    assert creative_descendants(v1) == [v2]


def test_family_tree_is_one_query(approved_campaign, operator, django_assert_num_queries):
    campaign = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    v1 = services.approve_creative(variant=CreativeVariant.objects.first(), actor=operator)
    v2 = services.edit_creative(variant=v1, actor=operator, subject="two")
    services.edit_creative(
        variant=services.approve_creative(
            variant=services.submit_creative_for_review(variant=v2, actor=operator), actor=operator
        ),
        actor=operator,
        subject="three",
    )
    with django_assert_num_queries(1):
        tree = creative_family(v1)
        depths = [depth for depth, _ in tree.walk()]
    assert depths == [0, 1, 2]


def test_review_decisions_need_rationales_and_legal_states(approved_campaign, operator):
    campaign = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    variant = CreativeVariant.objects.first()
    with pytest.raises(DomainError, match="rationale is required"):
        services.reject_creative(variant=variant, actor=operator, rationale="")
    changed = services.request_creative_changes(variant=variant, actor=operator, rationale="softer tone")
    assert changed.state == CreativeState.CHANGES_REQUESTED
    with pytest.raises(TransitionNotAllowedError, match="it is changes requested"):
        services.approve_creative(variant=changed, actor=operator)
    event = AuditEvent.objects.filter(verb="creative.changes_requested").get()
    assert event.rationale == "softer tone"


def test_only_approved_creative_is_sendable(approved_campaign, operator):
    campaign = approved_campaign()
    other = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    variant = CreativeVariant.objects.filter(campaign=campaign).first()
    with pytest.raises(CreativeNotApprovedError, match="only approved creative can be scheduled or sent"):
        services.ensure_creative_sendable(variant=variant, campaign=campaign)
    services.approve_creative(variant=variant, actor=operator)
    assert services.ensure_creative_sendable(variant=variant, campaign=campaign) == variant
    with pytest.raises(CreativeNotApprovedError, match="another campaign"):
        services.ensure_creative_sendable(variant=variant, campaign=other)


def test_preview_renders_sample_lead_and_keeps_template_code_literal(approved_campaign, operator):
    campaign = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    variant = CreativeVariant.objects.first()
    preview = services.render_creative(variant=variant)
    assert "Hi Alex," in preview.body and "{{" not in preview.body
    variant = services.edit_creative(
        variant=services.reject_creative(variant=variant, actor=operator, rationale="x"),
        actor=operator,
        body="Hi {{ first_name }} {% debug %} {{ unsubscribe_url }} {{ sender_address }}",
    )
    rendered = services.render_creative(variant=variant, context={"first_name": "{{ secret }}"})
    assert rendered.body.startswith("Hi {{ secret }} {% debug %}")


def test_the_generator_is_called_outside_the_transaction_that_stores_its_drafts(
    approved_campaign, operator, monkeypatch
):
    """A generator is a network call (the LLM): no transaction may be open around it."""
    from django.db import connection

    from creative.adapters.template import TemplateCreativeGenerator

    campaign = approved_campaign()
    depth_at_call = []
    real_generate = TemplateCreativeGenerator.generate

    def observed(self, request):
        depth_at_call.append(len(connection.atomic_blocks))
        return real_generate(self, request)

    monkeypatch.setattr(TemplateCreativeGenerator, "generate", observed)
    depth_outside = len(connection.atomic_blocks)  # the test's own transaction
    created = services.generate_creatives(campaign=campaign, actor=operator)

    assert created and depth_at_call
    assert set(depth_at_call) == {depth_outside}
