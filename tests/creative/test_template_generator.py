from __future__ import annotations

import pytest

from creative.adapters.template import TemplateCreativeGenerator
from creative.checks import CheckSettings, CreativeContent, blocking, run_checks
from creative.ports import CreativeRequest


def request(platform="email", **kw):
    base = dict(
        platform=platform,
        campaign_name="Q1 pipeline",
        campaign_type="lead_gen",
        pillar="Faster reporting",
        audience="heads of data",
        offer="A two-week analytics audit",
        cta="Worth a 15-minute call",
        variants=3,
    )
    return CreativeRequest(**{**base, **kw})


@pytest.mark.parametrize("platform", ["email", "linkedin", "instagram", "x"])
def test_three_distinct_variants_that_pass_the_checks(platform):
    result = TemplateCreativeGenerator().generate(request(platform))
    assert len(result.drafts) == 3
    assert len({d.body for d in result.drafts}) == 3
    for draft in result.drafts:
        content = CreativeContent(
            platform=platform,
            subject=draft.subject,
            preheader=draft.preheader,
            body=draft.body,
            body_html=draft.body_html,
            cta=draft.cta,
            hashtags=draft.hashtags,
        )
        assert blocking(run_checks(content, CheckSettings())) == []


def test_deterministic_and_reflects_the_brief():
    gen = TemplateCreativeGenerator()
    assert gen.generate(request()) == gen.generate(request())
    other = gen.generate(request(offer="A free data-quality scan"))
    assert other.drafts[0].body != gen.generate(request()).drafts[0].body
    assert "free data-quality scan" in other.drafts[0].body


def test_variant_count_bounds():
    assert len(TemplateCreativeGenerator().generate(request(variants=5)).drafts) == 5
    with pytest.raises(ValueError, match="between 1 and 5"):
        TemplateCreativeGenerator().generate(request(variants=6))


def test_subjects_stay_short_and_whole_worded_with_long_pillars_and_audiences():
    """A strategy pillar is a sentence ("Theme: why <audience> choose <offer>"); the subject takes its
    lead phrase, so it fits an inbox with a long company name merged in."""
    from creative.personalization import render_merge_fields

    pillar = (
        "Clear, measurable outcomes: why fleet managers and heads of logistics at carriers… choose a "
        "free route audit: 12 % fewer empty…"
    )
    result = TemplateCreativeGenerator().generate(
        request(pillar=pillar, audience="fleet managers and heads of logistics at carriers…", variants=5)
    )
    subjects = [
        render_merge_fields(
            d.subject, {"company": "Northwind Fleet Services", "first_name": "Maximilian"}
        ).text
        for d in result.drafts
    ]
    assert all(len(subject) <= 78 for subject in subjects), subjects
    assert not any("…" in subject or subject.endswith((",", ":")) for subject in subjects), subjects
    assert "Clear, measurable outcomes for Northwind Fleet Services" in subjects
    assert "What fleet managers learned about clear, measurable outcomes" in subjects
    for draft in result.drafts:
        content = CreativeContent(platform="email", subject=draft.subject, body=draft.body, cta=draft.cta)
        assert "subject_long" not in {f.code for f in run_checks(content, CheckSettings())}
