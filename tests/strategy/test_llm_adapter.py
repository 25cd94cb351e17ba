from __future__ import annotations

import json
from decimal import Decimal

import pytest

from campaigns.models import AuditEvent
from strategy import services
from strategy.adapters import available_generators, llm
from strategy.adapters.llm import LLMConfig, LLMStrategyGenerator, TransportError, llm_config_from_env
from strategy.adapters.template import TemplateStrategyGenerator
from strategy.models import StrategyBatch, StrategyVariant
from strategy.ports import StrategyGenerationError

pytestmark = pytest.mark.django_db


class FakeTransport:
    """Stands in for the provider's HTTPS endpoint: records requests, replays canned answers."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def post_json(self, url, *, headers, body, timeout):
        self.requests.append({"url": url, "headers": headers, "body": body, "timeout": timeout})
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def openai_answer(content: str, prompt_tokens=1200, completion_tokens=800):
    return {
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }


def valid_payload(campaign, count=3) -> str:
    brief = services.ensure_brief(campaign=campaign)
    request = services.build_strategy_request(campaign=campaign, brief=brief, variant_count=count)
    return json.dumps({"variants": TemplateStrategyGenerator().generate(request).variants})


@pytest.fixture
def openai_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("STRATEGY_LLM_PROVIDER", raising=False)
    monkeypatch.setenv("STRATEGY_LLM_PRICE_INPUT", "0.15")
    monkeypatch.setenv("STRATEGY_LLM_PRICE_OUTPUT", "0.60")


@pytest.fixture
def fake_transport(monkeypatch):
    def install(*answers):
        transport = FakeTransport(*answers)
        monkeypatch.setattr(llm, "UrllibTransport", lambda: transport)
        return transport

    return install


def test_not_offered_without_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert llm_config_from_env() is None
    assert available_generators() == ["template"]


def test_provider_is_chosen_by_environment():
    assert llm_config_from_env({"ANTHROPIC_API_KEY": "a"}).provider == "anthropic"
    both = {"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o", "STRATEGY_LLM_PROVIDER": "anthropic"}
    assert llm_config_from_env(both).provider == "anthropic"
    config = llm_config_from_env({"OPENAI_API_KEY": "o", "OPENAI_BASE_URL": "http://llm.local/v1/"})
    assert config.provider == "openai" and config.base_url == "http://llm.local/v1"


def test_valid_answer_is_stored_with_its_token_cost(make_campaign, operator, openai_env, fake_transport):
    campaign = make_campaign()
    transport = fake_transport(openai_answer(valid_payload(campaign)))
    assert "llm" in available_generators()

    batch = services.generate_strategies(campaign=campaign, actor=operator, generator="llm")

    assert batch.generator == "llm" and batch.model_name == "openai:gpt-4o-mini"
    assert (batch.prompt_tokens, batch.completion_tokens) == (1200, 800)
    # 1200 * 0.15 / 1M + 800 * 0.60 / 1M = 0.00066 USD
    assert batch.generation_cost == Decimal("0.0007")
    assert batch.variants.count() == 3
    event = AuditEvent.objects.get(campaign=campaign, verb="strategy.generated")
    assert event.metadata["cost"] == "0.0007" and event.metadata["prompt_tokens"] == 1200
    sent = transport.requests[0]
    assert sent["url"] == "https://api.openai.com/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test-not-real"
    prompt = sent["body"]["messages"][1]["content"]
    assert "Route-planning software" in prompt and '"positioning"' in prompt  # brief and schema
    assert sent["timeout"] == 60.0


def test_malformed_json_is_rejected_clearly_and_nothing_is_stored(
    make_campaign, operator, openai_env, fake_transport
):
    campaign = make_campaign()
    transport = fake_transport(openai_answer('{"variants": [{"angle": "conservative", '))

    with pytest.raises(services.StrategyError) as caught:
        services.generate_strategies(campaign=campaign, actor=operator, generator="llm")

    message = str(caught.value)
    assert "not valid JSON" in message and "after 3 attempt(s)" in message
    assert len(transport.requests) == 3  # bounded retries
    assert not StrategyBatch.objects.filter(campaign=campaign).exists()
    assert not StrategyVariant.objects.filter(campaign=campaign).exists()
    assert not AuditEvent.objects.filter(campaign=campaign, verb="strategy.generated").exists()
    campaign.refresh_from_db()
    assert campaign.state == "draft"


def test_json_that_breaks_the_schema_is_rejected_naming_the_field(make_campaign, openai_env, fake_transport):
    campaign = make_campaign()
    payload = json.loads(valid_payload(campaign))
    payload["variants"][1]["pillars"] = ["only one"]
    del payload["variants"][2]["risks"]
    fake_transport(openai_answer(json.dumps(payload)))
    with pytest.raises(services.StrategyError) as caught:
        services.generate_strategies(campaign=campaign, generator="llm")
    assert "variants/1/pillars" in str(caught.value) and "'risks' is a required property" in str(caught.value)
    assert not StrategyVariant.objects.filter(campaign=campaign).exists()


def test_api_answers_502_for_malformed_llm_output(
    api_as, operator, make_campaign, openai_env, fake_transport
):
    campaign = make_campaign()
    fake_transport(openai_answer("Sure! Here are your strategies: ..."))
    response = api_as(operator).post(
        f"/api/v1/campaigns/{campaign.pk}/strategies/generate/", {"generator": "llm"}
    )
    assert response.status_code == 502 and "not valid JSON" in response.json()["detail"]
    assert not StrategyVariant.objects.filter(campaign=campaign).exists()


def test_transient_errors_are_retried_and_tokens_add_up(make_campaign, openai_env, fake_transport):
    campaign = make_campaign()
    transport = fake_transport(
        TransportError("timed out"),
        openai_answer("not json", prompt_tokens=1000, completion_tokens=10),
        openai_answer(valid_payload(campaign), prompt_tokens=1000, completion_tokens=900),
    )
    batch = services.generate_strategies(campaign=campaign, generator="llm")
    assert len(transport.requests) == 3
    assert (batch.prompt_tokens, batch.completion_tokens) == (2000, 910)


def test_anthropic_format(make_campaign):
    campaign = make_campaign()
    answer = {
        "content": [{"type": "text", "text": "```json\n" + valid_payload(campaign, 2) + "\n```"}],
        "usage": {"input_tokens": 500, "output_tokens": 700},
    }
    transport = FakeTransport(answer)
    config = LLMConfig(
        provider="anthropic",
        api_key="test",
        model="claude-test",
        base_url="https://api.anthropic.com",
        price_input_per_mtok=Decimal("1"),
        price_output_per_mtok=Decimal("5"),
    )
    brief = services.ensure_brief(campaign=campaign)
    request = services.build_strategy_request(campaign=campaign, brief=brief, variant_count=2)
    result = LLMStrategyGenerator(config, transport=transport).generate(request)
    assert len(result.variants) == 2 and result.cost == Decimal("0.0040")
    assert transport.requests[0]["url"] == "https://api.anthropic.com/v1/messages"
    assert transport.requests[0]["headers"]["x-api-key"] == "test"


def test_wrong_variant_count_is_refused(make_campaign):
    campaign = make_campaign()
    config = LLMConfig(provider="openai", api_key="k", model="m", base_url="https://x", max_attempts=1)
    brief = services.ensure_brief(campaign=campaign)
    request = services.build_strategy_request(campaign=campaign, brief=brief, variant_count=3)
    generator = LLMStrategyGenerator(
        config, transport=FakeTransport(openai_answer(valid_payload(campaign, 2)))
    )
    with pytest.raises(StrategyGenerationError, match="expected 3 variants, got 2"):
        generator.generate(request)


def test_llm_cost_is_booked_to_the_budget_and_claims_are_flagged(
    make_campaign, operator, openai_env, fake_transport, operator_role_user
):
    from campaigns.errors import ApprovalNotPermittedError
    from campaigns.models import RiskFlag, SpendEntry

    campaign = make_campaign()
    payload = json.loads(valid_payload(campaign))
    payload["variants"][0]["positioning"] = (
        "Guaranteed results for every logistics firm, risk-free from day one."
    )
    fake_transport(openai_answer(json.dumps(payload)))
    batch = services.generate_strategies(campaign=campaign, actor=operator, generator="llm")

    spend = SpendEntry.objects.get(campaign=campaign)
    assert spend.kind == "ai_generation" and spend.amount == batch.generation_cost > 0
    bold = batch.variants.get(position=1)
    assert RiskFlag.objects.filter(target_id=str(bold.pk), severity="high").exists()
    services.select_strategy_variant(variant=bold, actor=operator)
    with pytest.raises(ApprovalNotPermittedError, match="approve_high_risk"):
        services.approve_strategy_variant(variant=bold, actor=operator_role_user, rationale="go")
    assert (
        services.approve_strategy_variant(variant=bold, actor=operator, rationale="legal ok").state
        == "approved"
    )
