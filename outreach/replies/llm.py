"""The LLM reply classifier: the strategy app's provider client (OpenAI- or Anthropic-compatible,
``OPENAI_BASE_URL`` for a self-hosted Ollama or vLLM), a short prompt and a JSON Schema.

The offline classifier runs first and always: machine mail it is sure of (delivery reports,
auto-replies with RFC 3834 headers) is decided without a paid call, and its result is the fallback
whenever the model's answer is not valid JSON, does not fit the schema (a category outside the
list, a referral address the reply does not contain), or the provider cannot be reached. The
cost of every call made is returned on the classification (``cost``, ``tokens``) for the caller to
book to the campaign budget, also when the answer was unusable."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import replace
from decimal import Decimal
from email.message import EmailMessage

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

from .categories import ReplyCategory
from .classifier import Classification, OfflineReplyClassifier, written_on
from .rules.body import new_text

logger = logging.getLogger(__name__)
MAX_REPLY_CHARS = 4000  # the new text of a reply; longer text adds cost, not meaning
DECIDED_OFFLINE = frozenset({ReplyCategory.BOUNCE, ReplyCategory.AUTO_REPLY_OTHER})

CLASSIFICATION_SCHEMA = {
    "type": "object",
    "required": ["category", "confidence", "reason"],
    "additionalProperties": False,
    "properties": {
        "category": {"type": "string", "enum": list(ReplyCategory.values)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string", "minLength": 1, "maxLength": 300},
        "return_date": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "referred_email": {"type": ["string", "null"], "maxLength": 254},
    },
}
SYSTEM = "You sort replies to B2B outreach emails. Answer with one JSON object only."
PROMPT = """Classify this reply to a sales outreach email into exactly one category:
interested, meeting_request (asks for or proposes a call/meeting), question (asks about the offer
without committing), not_interested, unsubscribe_request (asks not to be emailed again),
out_of_office (with return_date YYYY-MM-DD when stated), wrong_person (not the right contact or has
left; referred_email when another address is given), bounce, auto_reply_other, other.
The reply was written on {written}. Answer JSON matching this schema: {schema}

Subject: {subject}
From: {sender}
Reply (quoted history removed):
{text}"""


def llm_reply_config() -> LLMConfig | None:
    return llm_config_from_env()


def validate_answer(payload: object, *, text: str) -> dict:
    """The model's answer if it fits the schema, else ValueError naming what is wrong."""
    try:
        jsonschema.validate(payload, CLASSIFICATION_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the answer"
        raise ValueError(f"{where}: {exc.message}") from exc
    assert isinstance(payload, dict)
    if payload.get("return_date"):
        try:
            dt.date.fromisoformat(payload["return_date"])
        except ValueError as exc:
            raise ValueError(f"return_date: {payload['return_date']!r} is not a date") from exc
    referred = (payload.get("referred_email") or "").strip().lower()
    # A model may invent an address: accept only one the reply itself contains.
    if referred and referred not in text.lower():
        raise ValueError(f"referred_email: {referred!r} does not appear in the reply")
    return payload


class LLMReplyClassifier:
    name = "llm"

    def __init__(
        self,
        config: LLMConfig,
        transport: HttpTransport | None = None,
        fallback: OfflineReplyClassifier | None = None,
    ) -> None:
        self.config = config
        self.transport = transport or UrllibTransport()
        self.fallback = fallback or OfflineReplyClassifier()

    def _cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        cost = (
            Decimal(tokens_in) * self.config.price_input_per_mtok
            + Decimal(tokens_out) * self.config.price_output_per_mtok
        ) / Decimal(1_000_000)
        return cost.quantize(Decimal("0.000001"))

    def classify(self, message: EmailMessage) -> Classification:
        offline = self.fallback.classify(message)
        if offline.category in DECIDED_OFFLINE or (offline.automatic and offline.confidence >= 0.95):
            return replace(offline, reason=f"{offline.reason} (decided from headers, no LLM call)")
        text = new_text(message)[:MAX_REPLY_CHARS]
        prompt = PROMPT.format(
            written=written_on(message).isoformat(),
            schema=json.dumps(CLASSIFICATION_SCHEMA),
            subject=str(message.get("Subject") or "")[:300],
            sender=str(message.get("From") or "")[:300],
            text=text or "(empty)",
        )
        tokens_in = tokens_out = 0
        problem = ""
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                answer, used_in, used_out = chat_json(
                    self.config, self.transport, system=SYSTEM, prompt=prompt
                )
            except TransportError as exc:
                problem = str(exc)
                logger.warning("LLM reply classification attempt %s failed: %s", attempt, exc)
                continue
            except StrategyGenerationError as exc:  # refused (wrong key, unknown model): no retry
                problem = str(exc)
                break
            tokens_in, tokens_out = tokens_in + used_in, tokens_out + used_out
            try:
                payload = validate_answer(parse_json_answer(answer), text=text)
            except ValueError as exc:
                # A wrong answer is not retried: the offline result is a sound answer already.
                problem = f"unusable answer: {exc}"
                break
            return Classification(
                category=ReplyCategory(payload["category"]),
                confidence=float(payload["confidence"]),
                reason=f"LLM ({self.config.model}): {payload['reason']}",
                return_date=dt.date.fromisoformat(payload["return_date"])
                if payload.get("return_date")
                else None,
                referred_email=(payload.get("referred_email") or "").strip().lower(),
                automatic=offline.automatic,
                classifier=self.name,
                cost=self._cost(tokens_in, tokens_out),
                tokens=tokens_in + tokens_out,
            )
        logger.warning("LLM reply classification fell back to the offline result: %s", problem)
        return replace(
            offline,
            reason=f"{offline.reason} (LLM fallback: {problem[:200]})",
            cost=self._cost(tokens_in, tokens_out),
            tokens=tokens_in + tokens_out,
        )
