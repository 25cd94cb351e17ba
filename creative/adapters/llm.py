"""The LLM creative generator: the strategy app's provider client (OpenAI- or Anthropic-compatible),
its own prompt and JSON Schema. A malformed answer is refused after bounded retries, never stored.

Any OpenAI-compatible server works through ``OPENAI_BASE_URL``: the hosted API, or a self-hosted
Ollama (``http://localhost:11434/v1``) or vLLM (``http://host:8000/v1``) — see docs/creative.md.
The drafts go through the same creative checks as the offline generator's before review."""

from __future__ import annotations

import json
import logging
import string
from decimal import Decimal
from pathlib import Path

import jsonschema

from strategy.adapters.llm import (
    HttpTransport,
    LLMConfig,
    TransportError,
    UrllibTransport,
    chat_json,
    llm_config_from_env,
    parse_json_answer,
)
from strategy.ports import StrategyGenerationError

from ..copy_library import angles_for
from ..errors import CreativeGenerationError
from ..ports import CreativeDraft, CreativeRequest, GenerationResult

logger = logging.getLogger(__name__)
PROMPT_PATH = Path(__file__).parent / "prompts" / "creative_variants.txt"

_text = {"type": "string", "maxLength": 20000}
CREATIVE_SCHEMA = {
    "type": "object",
    "required": ["variants"],
    "additionalProperties": False,
    "properties": {
        "variants": {
            "type": "array",
            "minItems": 1,
            "maxItems": 5,
            "items": {
                "type": "object",
                "required": ["angle", "body"],
                "additionalProperties": False,
                "properties": {
                    "angle": {"type": "string", "minLength": 2, "maxLength": 40},
                    "subject": {"type": "string", "maxLength": 200},
                    "preheader": {"type": "string", "maxLength": 200},
                    "body": {**_text, "minLength": 10},
                    "body_html": _text,
                    "cta": {"type": "string", "maxLength": 200},
                    "hashtags": {
                        "type": "array",
                        "maxItems": 30,
                        "items": {"type": "string", "maxLength": 100},
                    },
                    "media_notes": {"type": "string", "maxLength": 2000},
                },
            },
        }
    },
}


def llm_creative_config() -> LLMConfig | None:
    return llm_config_from_env()


def render_prompt(request: CreativeRequest) -> str:
    return string.Template(PROMPT_PATH.read_text(encoding="utf-8")).substitute(
        variants=request.variants,
        angles=", ".join(angles_for(request.platform)[: request.variants]),
        campaign_name=request.campaign_name,
        campaign_type=request.campaign_type,
        platform=request.platform,
        pillar=request.pillar,
        audience=request.audience,
        offer=request.offer,
        cta=request.cta,
        tone=request.tone,
        constraints=request.constraints or "none",
        schema_json=json.dumps(CREATIVE_SCHEMA),
    )


def validate_creative_payload(payload: object, *, expected: int) -> list[CreativeDraft]:
    try:
        jsonschema.validate(payload, CREATIVE_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the answer"
        raise ValueError(f"{where}: {exc.message}") from exc
    variants = payload["variants"]
    if len(variants) != expected:
        raise ValueError(f"expected {expected} variants, got {len(variants)}")
    return [
        CreativeDraft(
            angle=v["angle"],
            subject=v.get("subject", ""),
            preheader=v.get("preheader", ""),
            body=v["body"],
            body_html=v.get("body_html", ""),
            cta=v.get("cta", ""),
            hashtags=tuple(t.lstrip("#") for t in v.get("hashtags", [])),
            media_notes=v.get("media_notes", ""),
        )
        for v in variants
    ]


class LLMCreativeGenerator:
    name = "llm"

    def __init__(self, config: LLMConfig, transport: HttpTransport | None = None) -> None:
        self.config = config
        self.transport = transport or UrllibTransport()

    def generate(self, request: CreativeRequest) -> GenerationResult:
        prompt = render_prompt(request)
        tokens_in = tokens_out = 0
        problem = ""
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                text, used_in, used_out = chat_json(
                    self.config,
                    self.transport,
                    prompt=prompt,
                    system="You write marketing creative as strict JSON. Answer with JSON only.",
                )
            except StrategyGenerationError as exc:
                # The provider refused the request (a wrong key, an unknown model): retrying
                # will not help, and the caller expects the creative app's error.
                raise CreativeGenerationError(str(exc)) from exc
            except TransportError as exc:
                problem = str(exc)
                logger.warning(
                    "LLM creative attempt %s/%s failed: %s", attempt, self.config.max_attempts, exc
                )
                continue
            tokens_in, tokens_out = tokens_in + used_in, tokens_out + used_out
            try:
                drafts = validate_creative_payload(parse_json_answer(text), expected=request.variants)
            except ValueError as exc:
                problem = str(exc)
                logger.warning(
                    "LLM creative attempt %s/%s unusable: %s", attempt, self.config.max_attempts, exc
                )
                continue
            cost = (
                Decimal(tokens_in) * self.config.price_input_per_mtok
                + Decimal(tokens_out) * self.config.price_output_per_mtok
            ) / Decimal(1_000_000)
            return GenerationResult(
                drafts=drafts,
                generator=self.name,
                cost=float(cost.quantize(Decimal("0.0001"))),
                tokens=tokens_in + tokens_out,
            )
        raise CreativeGenerationError(
            f"The LLM ({self.config.provider}, {self.config.model}) gave no usable creative after "
            f"{self.config.max_attempts} attempt(s): {problem}"
        )
