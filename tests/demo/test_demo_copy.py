"""The demo sends its copy live: every variant the demo's brief gets, on every platform, passes
every creative check with no override (issue #17: the old copy cut phrases with "…")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from creative import services as creative_services
from creative.checks import WRITING_CODES
from creative.models import CreativeState, CreativeVariant
from demo import scenario

pytestmark = pytest.mark.django_db


def test_the_demo_copy_passes_every_check_and_is_approved_without_an_override():
    run = scenario.ensure_people_and_client()
    scenario.create_demo_campaign(run, start=timezone.localdate() + dt.timedelta(days=1))
    scenario.plan_strategy(run)
    approved = scenario.prepare_creative(run)  # email + LinkedIn, approved as the demo does
    creative_services.generate_creatives(
        campaign=run.campaign, actor=run.operator, platforms=["instagram", "x"], variants=5
    )

    variants = list(CreativeVariant.objects.filter(campaign=run.campaign))
    assert {v.platform for v in variants} == {"email", "linkedin", "instagram", "x"}
    for variant in variants:
        codes = {f["code"] for f in variant.check_findings}
        assert not [f for f in variant.check_findings if f["severity"] == "error"], (
            variant,
            variant.check_findings,
        )
        assert not codes & WRITING_CODES, (variant, codes)
        text = "\n".join([variant.subject, variant.preheader, variant.body])
        assert "…" not in text and ".." not in text.replace("...", "")
    assert len(approved) == 3 and all(v.state == CreativeState.APPROVED for v in approved)
    assert all(not v.override_rationale for v in approved)

    # The demo's story: arm A leads with the offer, arm B with the empty-kilometres number.
    arm_a, arm_b, _follow_up = approved
    assert "route audit" in arm_a.subject.lower()
    assert "12 % fewer empty kilometres" in arm_b.subject
    assert "12 % fewer empty kilometres in the first quarter" in arm_b.body
