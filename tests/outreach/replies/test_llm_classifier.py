"""The LLM reply classifier against a loopback OpenAI-compatible server (the approach and server of
tests/creative/test_llm_openai_compatible.py): configuration from the environment as in production,
the real urllib transport, the real schema check, and the offline result as the fallback."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from outreach.replies.classifier import OfflineReplyClassifier, get_reply_classifier
from outreach.replies.llm import LLMReplyClassifier, llm_reply_config
from tests.creative.test_llm_openai_compatible import FakeOpenAICompatibleServer, completion

from .eml_corpus import CORPUS, load


@pytest.fixture
def server():
    fake = FakeOpenAICompatibleServer()
    thread = threading.Thread(target=fake.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()
    thread.join(timeout=5)


@pytest.fixture
def llm_env(monkeypatch, server):
    """A self-hosted model priced like a hosted one, so the cost figure is checked."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("STRATEGY_LLM_PROVIDER", raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "local-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("STRATEGY_LLM_MODEL", "llama3.1")
    monkeypatch.setenv("STRATEGY_LLM_PRICE_INPUT", "0.15")
    monkeypatch.setenv("STRATEGY_LLM_PRICE_OUTPUT", "0.60")
    monkeypatch.setenv("STRATEGY_LLM_TIMEOUT", "10")
    monkeypatch.setenv("STRATEGY_LLM_MAX_ATTEMPTS", "2")
    return server


# completion() reports 812 prompt and 415 completion tokens: (812 * 0.15 + 415 * 0.60) / 1e6.
ONE_CALL = Decimal("0.000371")


def answer(**fields) -> tuple[int, dict]:
    return completion(json.dumps({"confidence": 0.9, "reason": "asks for a call", **fields}))


def test_a_valid_answer_is_used_and_its_cost_returned(llm_env):
    server = llm_env
    server.replies = [answer(category="meeting_request")]
    # Offline this reply is "interested" (it says "tell me more"); the model's answer wins.
    result = LLMReplyClassifier(llm_reply_config()).classify(
        load(CORPUS / "interested/01-gmail-en-tell-me-more.eml")
    )
    assert (str(result.category), result.classifier, result.confidence) == ("meeting_request", "llm", 0.9)
    assert result.cost == ONE_CALL and result.tokens == 1227
    assert result.reason == "LLM (llama3.1): asks for a call"
    (sent,) = server.requests
    assert sent["path"] == "/v1/chat/completions" and sent["headers"]["Authorization"] == "Bearer local-key"
    prompt = sent["body"]["messages"][-1]["content"]
    assert "Tell me more about how the route audit works" in prompt and "2026-03-02" in prompt
    assert "Unsubscribe: https://example-sender.com" not in prompt  # quoted history is not sent


def test_return_date_and_a_referral_the_reply_contains_are_taken(llm_env):
    server = llm_env
    server.replies = [answer(category="wrong_person", referred_email="Mark.Jones@hart-distribution.com")]
    message = load(CORPUS / "wrong_person/01-gmail-en-contact-colleague.eml")
    result = LLMReplyClassifier(llm_reply_config()).classify(message)
    assert (str(result.category), result.referred_email) == (
        "wrong_person",
        "mark.jones@hart-distribution.com",
    )
    server.replies = [answer(category="out_of_office", return_date="2026-03-16")]
    result = LLMReplyClassifier(llm_reply_config()).classify(
        load(CORPUS / "other/01-gmail-en-thanks-got-it.eml")
    )
    assert result.return_date.isoformat() == "2026-03-16"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (json.dumps({"category": "hot_lead", "confidence": 0.9, "reason": "x"}), "is not one of"),
        (json.dumps({"category": "interested", "confidence": 7, "reason": "x"}), "greater than the maximum"),
        (json.dumps({"category": "interested", "reason": "x"}), "'confidence' is a required property"),
        ("Sure! This reply is interested.", "not valid JSON"),
        (
            json.dumps(
                {
                    "category": "wrong_person",
                    "confidence": 0.8,
                    "reason": "x",
                    "referred_email": "ceo@made-up.example",
                }
            ),
            "does not appear in the reply",
        ),
        (
            json.dumps(
                {"category": "out_of_office", "confidence": 0.8, "reason": "x", "return_date": "2026-02-31"}
            ),
            "is not a date",
        ),
    ],
)
def test_an_unusable_answer_falls_back_to_the_offline_result_and_still_costs(llm_env, content, problem):
    server = llm_env
    server.replies = [completion(content)]
    message = load(CORPUS / "not_interested/01-gmail-en-no-thanks.eml")
    result = LLMReplyClassifier(llm_reply_config()).classify(message)
    offline = OfflineReplyClassifier().classify(message)
    assert (result.category, result.classifier) == (offline.category, "offline")
    assert (
        result.reason.startswith(offline.reason)
        and "LLM fallback" in result.reason
        and problem in result.reason
    )
    assert result.cost == ONE_CALL  # the call was made and must be booked
    assert len(server.requests) == 1  # a wrong answer is not retried


def test_an_unreachable_provider_falls_back_after_the_attempts_at_no_cost(llm_env):
    server = llm_env
    server.replies = [(503, {"error": {"message": "model is loading"}})]
    result = LLMReplyClassifier(llm_reply_config()).classify(
        load(CORPUS / "question/01-gmail-en-pricing.eml")
    )
    assert (str(result.category), result.classifier, result.cost) == ("question", "offline", Decimal("0"))
    assert "HTTP 503" in result.reason and len(server.requests) == 2


@pytest.mark.parametrize(
    "relative",
    [
        "bounce/01-postfix-dsn-hard.eml",
        "out_of_office/01-exchange-en-auto-submitted.eml",
        "auto_reply_other/03-precedence-bulk-received.eml",
    ],
)
def test_machine_mail_is_decided_from_headers_without_a_paid_call(llm_env, relative):
    server = llm_env
    server.replies = [answer(category="interested")]
    result = LLMReplyClassifier(llm_reply_config()).classify(load(CORPUS / relative))
    assert str(result.category) == relative.split("/")[0] and result.cost == 0
    assert "no LLM call" in result.reason and server.requests == []


def test_the_setting_picks_the_classifier(llm_env, settings, monkeypatch):
    assert isinstance(get_reply_classifier(), OfflineReplyClassifier)  # the default
    settings.AICMO_REPLY_CLASSIFIER = "llm"
    assert isinstance(get_reply_classifier(), LLMReplyClassifier)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert isinstance(get_reply_classifier(), OfflineReplyClassifier)  # no key: offline, with a warning
    settings.AICMO_REPLY_CLASSIFIER = "magic"
    with pytest.raises(ImproperlyConfigured, match="magic"):
        get_reply_classifier()
