from __future__ import annotations

import pytest

from creative.adapters.template import TemplateCreativeGenerator
from creative.checks import CheckSettings, CreativeContent, blocking, run_checks
from creative.ports import CreativeRequest

from .briefs import BASE, content


def request(platform="email", **kw):
    return CreativeRequest(**{"platform": platform, "variants": 3, **BASE, **kw})


@pytest.mark.parametrize("platform", ["email", "linkedin", "instagram", "x"])
def test_three_distinct_variants_that_pass_the_checks(platform):
    result = TemplateCreativeGenerator().generate(request(platform))
    assert len(result.drafts) == 3
    assert len({d.body for d in result.drafts}) == 3
    for draft in result.drafts:
        assert blocking(run_checks(content(platform, draft), CheckSettings())) == []


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


def test_subjects_stay_short_whole_and_plain_with_long_damaged_pillars_and_audiences():
    """A strategy pillar can quote a truncated sentence ("… at carriers… choose …: 12 % fewer
    empty…"): subjects take whole phrases of the brief, fit an inbox, and carry no merge fields
    (they also name the variant in lists and tasks)."""
    pillar = (
        "Clear, measurable outcomes: why fleet managers and heads of logistics at carriers… choose a "
        "free route audit: 12 % fewer empty…"
    )
    result = TemplateCreativeGenerator().generate(
        request(pillar=pillar, audience="fleet managers and heads of logistics at carriers…", variants=5)
    )
    subjects = [d.subject for d in result.drafts]
    assert len(set(subjects)) == 5, subjects
    for draft in result.drafts:
        assert len(draft.subject) <= 60 and "{{" not in draft.subject, draft.subject
        assert "…" not in draft.subject + draft.preheader + draft.body
        assert not draft.subject.endswith((",", ":", " and", " of"))
        content = CreativeContent(
            platform="email", subject=draft.subject, preheader=draft.preheader, body=draft.body, cta=draft.cta
        )
        assert [f for f in run_checks(content, CheckSettings()) if f.severity != "info"] == []
    # The damaged audience keeps its whole phrases, never the cut one.
    assert any("for fleet managers and heads of logistics." in d.body for d in result.drafts), (
        "the whole part of the audience before the cut"
    )
    assert not any("at carriers" in d.body for d in result.drafts)
