"""The LLM strategy generator: OpenAI- or Anthropic-compatible chat APIs over HTTPS.

Configured from the environment (see `llm_config_from_env`); without a key it is not offered.
The prompt lives in `prompts/strategy_variants.txt`. The answer must be JSON that fits
`strategy.schema`; anything else is refused with a clear error (after bounded retries), so a bad
answer never reaches the database. Token usage becomes a cost figure on the batch.
"""

from __future__ import annotations

import json
import logging
import os
import string
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from ..ports import GeneratedStrategies, StrategyGenerationError, StrategyRequest
from ..schema import STRATEGY_VARIANT_SCHEMA, StrategySchemaError, validate_strategy_payload
from .template import ANGLES

logger = logging.getLogger(__name__)

PROMPT_PATH = Path(__file__).parent / "prompts" / "strategy_variants.txt"
PROVIDERS = ("openai", "anthropic")
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest"}
DEFAULT_BASE_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
# USD per million tokens (input, output); override with STRATEGY_LLM_PRICE_INPUT / _OUTPUT.
DEFAULT_PRICES = {"openai": (Decimal("0.15"), Decimal("0.60")), "anthropic": (Decimal("0.80"), Decimal("4"))}


class TransportError(Exception):
    """The HTTP call failed in a way worth retrying (timeout, connection, 429, 5xx)."""


class HttpTransport(Protocol):
    def post_json(
        self, url: str, *, headers: dict[str, str], body: dict[str, Any], timeout: float
    ) -> dict[str, Any]: ...


class UrllibTransport:
    """The real transport (stdlib only). Tests pass a fake one instead: no network in tests."""

    def post_json(
        self, url: str, *, headers: dict[str, str], body: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise TransportError(f"provider answered HTTP {exc.code}") from exc
            detail = exc.read().decode(errors="replace")[:300]
            raise StrategyGenerationError(
                f"LLM provider refused the request: HTTP {exc.code} {detail}"
            ) from exc
        except (urllib.error.URLError, TimeoutError) as exc:
            raise TransportError(f"could not reach the provider: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise TransportError("provider answered with a body that is not JSON") from exc


@dataclass(frozen=True)
class LLMConfig:
    provider: str
    api_key: str
    model: str
    base_url: str
    timeout_seconds: float = 60.0
    max_attempts: int = 3
    price_input_per_mtok: Decimal = Decimal("0")
    price_output_per_mtok: Decimal = Decimal("0")


def llm_config_from_env(environ: dict[str, str] | None = None) -> LLMConfig | None:
    """The LLM configuration, or None when no provider key is set (then the adapter is not offered).

    STRATEGY_LLM_PROVIDER=openai|anthropic picks one when both keys are set; OPENAI_API_KEY /
    ANTHROPIC_API_KEY; optional STRATEGY_LLM_MODEL, OPENAI_BASE_URL / ANTHROPIC_BASE_URL,
    STRATEGY_LLM_TIMEOUT (seconds), STRATEGY_LLM_MAX_ATTEMPTS, STRATEGY_LLM_PRICE_INPUT /
    STRATEGY_LLM_PRICE_OUTPUT (USD per million tokens).
    """
    env = os.environ if environ is None else environ
    keys = {"openai": env.get("OPENAI_API_KEY", ""), "anthropic": env.get("ANTHROPIC_API_KEY", "")}
    provider = env.get("STRATEGY_LLM_PROVIDER", "").strip().lower()
    if provider and provider not in PROVIDERS:
        logger.warning("STRATEGY_LLM_PROVIDER=%r is unknown; use openai or anthropic", provider)
        return None
    if not provider:
        provider = next((p for p in PROVIDERS if keys[p]), "")
    if not provider or not keys[provider]:
        return None
    price_in, price_out = DEFAULT_PRICES[provider]
    return LLMConfig(
        provider=provider,
        api_key=keys[provider],
        model=env.get("STRATEGY_LLM_MODEL") or DEFAULT_MODELS[provider],
        base_url=(env.get(f"{provider.upper()}_BASE_URL") or DEFAULT_BASE_URLS[provider]).rstrip("/"),
        timeout_seconds=float(env.get("STRATEGY_LLM_TIMEOUT", "60")),
        max_attempts=max(1, min(5, int(env.get("STRATEGY_LLM_MAX_ATTEMPTS", "3")))),
        price_input_per_mtok=Decimal(env.get("STRATEGY_LLM_PRICE_INPUT", str(price_in))),
        price_output_per_mtok=Decimal(env.get("STRATEGY_LLM_PRICE_OUTPUT", str(price_out))),
    )


def render_prompt(request: StrategyRequest) -> str:
    ctype = request.campaign_type
    return string.Template(PROMPT_PATH.read_text(encoding="utf-8")).substitute(
        variant_count=request.variant_count,
        angles=", ".join(a.key for a in ANGLES[: request.variant_count]),
        campaign_name=request.campaign_name,
        campaign_type_label=ctype.label,
        campaign_type_description=ctype.description,
        duration_days=request.duration_days,
        phases_json=json.dumps(list(ctype.phases), indent=1),
        kpis_json=json.dumps(ctype.default_kpis),
        channel_mix_json=json.dumps(ctype.channel_mix),
        brief_json=json.dumps(request.brief, indent=1, default=str),
        schema_json=json.dumps(STRATEGY_VARIANT_SCHEMA),
    )


class LLMStrategyGenerator:
    name = "llm"

    def __init__(self, config: LLMConfig, transport: HttpTransport | None = None) -> None:
        self.config = config
        self.transport = transport or UrllibTransport()

    def generate(self, request: StrategyRequest) -> GeneratedStrategies:
        prompt = render_prompt(request)
        prompt_tokens = completion_tokens = 0
        last_problem = ""
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                text, used_in, used_out = self._call(prompt)
            except TransportError as exc:
                last_problem = str(exc)
                logger.warning(
                    "LLM strategy attempt %s/%s failed: %s", attempt, self.config.max_attempts, exc
                )
                continue
            prompt_tokens += used_in
            completion_tokens += used_out
            try:
                variants = validate_strategy_payload(
                    parse_json_answer(text), expected_variants=request.variant_count
                )
            except (ValueError, StrategySchemaError) as exc:
                last_problem = str(exc)
                logger.warning(
                    "LLM strategy attempt %s/%s unusable: %s", attempt, self.config.max_attempts, exc
                )
                continue
            return GeneratedStrategies(
                variants=variants,
                generator=self.name,
                model_name=f"{self.config.provider}:{self.config.model}",
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                cost=self._cost(prompt_tokens, completion_tokens),
            )
        raise StrategyGenerationError(
            f"The LLM ({self.config.provider}, {self.config.model}) gave no usable strategies after "
            f"{self.config.max_attempts} attempt(s): {last_problem}"
        )

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        cost = (
            Decimal(prompt_tokens) * self.config.price_input_per_mtok
            + Decimal(completion_tokens) * self.config.price_output_per_mtok
        ) / Decimal(1_000_000)
        return cost.quantize(Decimal("0.0001"))

    def _call(self, prompt: str) -> tuple[str, int, int]:
        return chat_json(
            self.config,
            self.transport,
            prompt=prompt,
            system="You write marketing strategies as strict JSON. Answer with JSON only.",
        )


def parse_json_answer(text: str) -> Any:
    cleaned = (text or "").strip()
    # Models sometimes wrap JSON in a Markdown fence; accept that, nothing looser.
    if cleaned.startswith("```"):
        cleaned = cleaned.strip("`")
        cleaned = cleaned[4:] if cleaned.lower().startswith("json") else cleaned
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"the answer is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc


def chat_json(
    config: LLMConfig, transport: HttpTransport, *, system: str, prompt: str
) -> tuple[str, int, int]:
    """One chat completion asking for JSON; returns (text, prompt tokens, completion tokens).

    Shared by every LLM adapter (strategy, creative): one place knows both providers' shapes."""
    cfg = config
    if cfg.provider == "openai":
        answer = transport.post_json(
            f"{cfg.base_url}/chat/completions",
            headers={"Authorization": f"Bearer {cfg.api_key}"},
            body={
                "model": cfg.model,
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
                "response_format": {"type": "json_object"},
                "temperature": 0.4,
            },
            timeout=cfg.timeout_seconds,
        )
        try:
            text = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise TransportError("provider answer has no choices[0].message.content") from exc
        usage = answer.get("usage") or {}
        return text, int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    answer = transport.post_json(
        f"{cfg.base_url}/v1/messages",
        headers={"x-api-key": cfg.api_key, "anthropic-version": "2023-06-01"},
        body={
            "model": cfg.model,
            "max_tokens": 8000,
            "system": system,
            "messages": [{"role": "user", "content": prompt}],
        },
        timeout=cfg.timeout_seconds,
    )
    try:
        text = "".join(block.get("text", "") for block in answer["content"] if block.get("type") == "text")
    except (KeyError, TypeError, AttributeError) as exc:
        raise TransportError("provider answer has no text content") from exc
    usage = answer.get("usage") or {}
    return text, int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
