from __future__ import annotations

import json

import pytest

from campaigns.models import SpendEntry
from creative import services
from creative.adapters import llm as creative_llm
from creative.errors import CreativeGenerationError
from creative.models import CreativeBrief, CreativeVariant

pytestmark = pytest.mark.django_db


class FakeTransport:
    """Stands in for the provider's HTTPS API (outside the machine); replays canned answers."""

    def __init__(self, *answers):
        self.answers, self.requests = list(answers), []

    def post_json(self, url, *, headers, body, timeout):
        self.requests.append(body)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def openai(content):
    return {
        "choices": [{"message": {"content": content}}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 600},
    }


@pytest.fixture
def llm_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("STRATEGY_LLM_PROVIDER", raising=False)


@pytest.fixture
def transport(monkeypatch):
    def install(*answers):
        fake = FakeTransport(*answers)
        monkeypatch.setattr(creative_llm, "UrllibTransport", lambda: fake)
        return fake

    return install


def email_variants(n):
    footer = (
        "\n{{ sender_name }}, {{ sender_company }}\n{{ sender_address }}\nUnsubscribe: {{ unsubscribe_url }}"
    )
    return {
        "variants": [
            {
                "angle": f"angle-{i}",
                "subject": f"Subject {i}",
                "preheader": "p",
                "body": f'Hi {{{{ first_name|default:"there" }}}}, idea {i}.{footer}',
                "cta": "Call?",
            }
            for i in range(n)
        ]
    }


def test_llm_creative_is_validated_stored_and_its_cost_booked(
    approved_campaign, operator, llm_env, transport
):
    campaign = approved_campaign()
    fake = transport(openai(json.dumps(email_variants(3))))
    created = services.generate_creatives(
        campaign=campaign, actor=operator, platforms=["email"], generator="llm"
    )
    assert [v.subject for v in created] == ["Subject 0", "Subject 1", "Subject 2"]
    assert all(v.generator == "llm" and not v.blocking_findings for v in created)
    assert "response_format" in fake.requests[0]
    spend = SpendEntry.objects.get(campaign=campaign, kind="ai_generation")
    assert spend.amount > 0


def test_malformed_llm_json_is_refused_and_nothing_is_stored(approved_campaign, operator, llm_env, transport):
    campaign = approved_campaign()
    transport(openai("Sure! Here are your emails: {not json"))
    with pytest.raises(CreativeGenerationError, match=r"after 3 attempt.*not valid JSON"):
        services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], generator="llm")
    assert not CreativeBrief.objects.exists() and not CreativeVariant.objects.exists()
    assert (
        not SpendEntry.objects.filter(kind="ai_generation", campaign=campaign)
        .exclude(description__startswith="strategy")
        .exists()
    )


def test_schema_violations_name_the_field(approved_campaign, operator, llm_env, transport):
    campaign = approved_campaign()
    bad = email_variants(3)
    del bad["variants"][1]["body"]
    transport(openai(json.dumps(bad)))
    with pytest.raises(CreativeGenerationError, match="'body' is a required property"):
        services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], generator="llm")


def test_llm_not_offered_without_a_key(approved_campaign, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(CreativeGenerationError, match="not configured"):
        services.generate_creatives(campaign=approved_campaign(), generator="llm")
