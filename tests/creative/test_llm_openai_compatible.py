"""The LLM creative generator against a self-hosted OpenAI-compatible server (Ollama, vLLM), here a
loopback HTTP server that answers ``/v1/chat/completions`` like the real API. Nothing of ours is
faked: the configuration comes from the environment as in production, the request goes out through
the real urllib transport, and the answer is validated, checked and stored by the real service."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.models import SpendEntry
from creative import services
from creative.adapters.llm import LLMCreativeGenerator, llm_creative_config
from creative.copy_library import angles_for
from creative.errors import CreativeGenerationError
from creative.models import CreativeVariant
from creative.ports import CreativeRequest

FOOTER = (
    "\n\n--\n{{ sender_name }}, {{ sender_company }}\n{{ sender_address }}\n"
    "Not interested? Unsubscribe: {{ unsubscribe_url }}"
)
GREETING = 'Hi {{ first_name|default:"there" }},'


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAICompatibleServer

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path != "/v1/chat/completions":
            status, payload = 404, {"error": {"message": f"no route {self.path}"}}
        else:
            status, payload = (
                self.server.replies.pop(0) if len(self.server.replies) > 1 else self.server.replies[0]
            )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep pytest output clean
        pass


class FakeOpenAICompatibleServer(ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.replies: list[tuple[int, dict]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


def completion(content: str, model: str = "llama3.1") -> tuple[int, dict]:
    """A chat completion exactly as OpenAI (and Ollama's /v1) returns it."""
    return 200, {
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1767225600,
        "model": model,
        "system_fingerprint": "fp_ollama",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 812, "completion_tokens": 415, "total_tokens": 1227},
    }


def email_answer(n: int, subject: str = "") -> str:
    return json.dumps(
        {
            "variants": [
                {
                    "angle": angle,
                    "subject": subject or f"Route audit idea {i + 1}",
                    "preheader": "One idea for your fleet, in two minutes.",
                    "body": f"{GREETING}\n\nIdea number {i + 1} for your routes.{FOOTER}",
                    "cta": "Worth a 15-minute call?",
                }
                for i, angle in enumerate(angles_for("email")[:n])
            ]
        }
    )


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
def ollama_env(monkeypatch, server):
    """The documented Ollama example (docs/creative.md): any key, the /v1 base URL, a local model,
    free tokens."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("STRATEGY_LLM_PROVIDER", raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "ollama")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("STRATEGY_LLM_MODEL", "llama3.1")
    monkeypatch.setenv("STRATEGY_LLM_PRICE_INPUT", "0")
    monkeypatch.setenv("STRATEGY_LLM_PRICE_OUTPUT", "0")
    monkeypatch.setenv("STRATEGY_LLM_TIMEOUT", "10")
    return server


def brief(**kw) -> CreativeRequest:
    fields = dict(
        platform="email",
        campaign_name="Route audit",
        campaign_type="lead_gen",
        pillar="Clear, measurable outcomes",
        audience="Fleet managers",
        offer="A free route audit",
        cta="Worth a 15-minute call",
        variants=3,
    )
    return CreativeRequest(**{**fields, **kw})


def test_generates_through_an_openai_compatible_base_url(ollama_env):
    server = ollama_env
    server.replies = [completion(email_answer(3))]
    config = llm_creative_config()
    assert (config.provider, config.model, config.base_url) == ("openai", "llama3.1", server.base_url)

    result = LLMCreativeGenerator(config).generate(brief())

    assert [d.subject for d in result.drafts] == [
        "Route audit idea 1",
        "Route audit idea 2",
        "Route audit idea 3",
    ]
    assert [d.angle for d in result.drafts] == list(angles_for("email")[:3])
    assert result.generator == "llm" and result.tokens == 1227 and result.cost == 0
    (sent,) = server.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer ollama"
    assert sent["body"]["model"] == "llama3.1"
    assert sent["body"]["response_format"] == {"type": "json_object"}
    prompt = sent["body"]["messages"][-1]["content"]
    assert "problem-agitate-solve, before-after-bridge, quick question" in prompt
    assert "A free route audit" in prompt and "contain no {{ }}" in prompt


def test_a_server_error_is_retried_then_the_answer_is_used(ollama_env):
    server = ollama_env
    server.replies = [(503, {"error": {"message": "model is loading"}}), completion(email_answer(3))]
    result = LLMCreativeGenerator(llm_creative_config()).generate(brief())
    assert len(server.requests) == 2 and len(result.drafts) == 3


def test_a_refused_request_is_a_creative_error_not_retried(ollama_env):
    server = ollama_env
    server.replies = [(404, {"error": {"message": "model 'llama3.1' not found, try pulling it first"}})]
    with pytest.raises(CreativeGenerationError, match=r"HTTP 404.*try pulling it first"):
        LLMCreativeGenerator(llm_creative_config()).generate(brief())
    assert len(server.requests) == 1


def test_an_answer_that_is_not_json_is_refused_after_the_attempts(ollama_env, monkeypatch):
    monkeypatch.setenv("STRATEGY_LLM_MAX_ATTEMPTS", "2")
    server = ollama_env
    server.replies = [completion("Sure! Here are three emails: 1) ...")]
    with pytest.raises(CreativeGenerationError, match=r"llama3\.1.*after 2 attempt.*not valid JSON"):
        LLMCreativeGenerator(llm_creative_config()).generate(brief())
    assert len(server.requests) == 2


@pytest.mark.django_db
def test_the_service_stores_checked_llm_drafts_and_books_no_cost_for_a_free_local_model(
    ollama_env, approved_campaign, operator
):
    server = ollama_env
    campaign = approved_campaign()
    # One subject cut off with an ellipsis: the same checks as the offline copy must catch it.
    server.replies = [completion(email_answer(3, subject="How a team like yours fixed…"))]
    created = services.generate_creatives(
        campaign=campaign, actor=operator, platforms=["email"], generator="llm"
    )
    assert len(created) == 3 and all(v.generator == "llm" for v in created)
    stored = CreativeVariant.objects.filter(pk__in=[v.pk for v in created])
    assert all("ellipsis" in {f["code"] for f in v.check_findings} for v in stored)
    assert not SpendEntry.objects.filter(campaign=campaign, description__startswith="creative").exists()
