"""The outbound event types: one registry of names, versions and JSON schemas of their ``data``.

Every event sent to a webhook endpoint is ``{"type", "version", "id", "occurred_at", "client",
"campaign", "data"}``; ``data`` follows the schema of its type and version here. The webhooks API
serves these schemas (``GET /api/v1/webhooks/event-types/``) and docs/webhooks.md lists them; a new
field is added without a version change, a changed or removed one needs a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ID = {"type": "integer"}
_TEXT = {"type": "string"}
_OPT_TEXT = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_MONEY = {"type": "string", "description": 'Decimal amount as a string, e.g. "1250.00"'}
_ACTOR = {"type": "string", "description": 'Username of the person, or "system" for automation.'}
_LEAD = {
    "type": "object",
    "properties": {"id": _ID, "email": _TEXT, "company": _TEXT, "state": _TEXT},
    "required": ["id", "email"],
}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": sorted(required),
        "additionalProperties": True,
    }


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    description: str
    schema: dict[str, Any]
    # Sent in batches of up to 100 per POST to endpoints that opt in (the high-volume ones).
    batchable: bool = False
    # False: declared for receivers, but nothing here causes it yet (no sender pool).
    emitted: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.name,
            "version": self.version,
            "description": self.description,
            "batchable": self.batchable,
            "emitted": self.emitted,
            "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", **self.schema},
        }


_lead_change = _object({"lead": _LEAD, "actor": _ACTOR, "from_state": _TEXT}, {"rationale": _TEXT})
_message = {
    "message_id": _ID,
    "lead": _LEAD,
    "step_id": _ID,
}

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(
            "lead.imported",
            1,
            "A lead import (CSV file or API push) finished; one event per import, with its counts.",
            _object(
                {
                    "import_id": _ID,
                    "source": _TEXT,
                    "rows_read": _ID,
                    "inserted": _ID,
                    "duplicates_in_file": _ID,
                    "duplicates_in_campaign": _ID,
                    "suppressed": _ID,
                    "invalid": _ID,
                },
                {"filename": _TEXT, "flagged": _ID},
            ),
        ),
        EventType("lead.qualified", 1, "A lead was qualified.", _lead_change),
        EventType(
            "lead.won",
            1,
            "A lead became a won deal (the deal value when an outcome is recorded with it).",
            _object(
                {"lead": _LEAD, "actor": _ACTOR, "from_state": _TEXT},
                {"rationale": _TEXT, "deal_value": {"type": ["string", "null"]}, "currency": _OPT_TEXT},
            ),
        ),
        EventType("lead.unsubscribed", 1, "A lead unsubscribed (link, ESP, or a suppression).", _lead_change),
        EventType(
            "reply.received",
            1,
            "A reply from the lead's own address (not an automatic reply) to one of our messages.",
            _object(
                {"reply_id": _ID, "message_id": _ID, "lead": _LEAD, "subject": _TEXT, "received_at": _TIME},
                {"category": {**_OPT_TEXT, "description": "Reply category where the reply inbox sets one."}},
            ),
        ),
        EventType(
            "message.sent",
            1,
            "An email went out (live sends only; dry runs send no event).",
            _object({**_message, "sent_at": _TIME}, {"provider_message_id": _TEXT}),
            batchable=True,
        ),
        EventType(
            "message.bounced",
            1,
            "The provider reported a bounce for one of our messages.",
            _object({**_message, "hard": {"type": "boolean"}, "provider": _TEXT}, {"detail": _TEXT}),
        ),
        EventType(
            "message.complained",
            1,
            "The recipient marked one of our messages as spam.",
            _object({**_message, "provider": _TEXT}),
        ),
        EventType(
            "campaign.state_changed",
            1,
            "A campaign moved through its lifecycle (approved, activated, paused, killed, …).",
            _object(
                {"from_state": _TEXT, "to_state": _TEXT, "transition": _TEXT, "actor": _ACTOR},
                {"rationale": _TEXT, "pause_kind": _TEXT},
            ),
        ),
        EventType(
            "strategy.approved",
            1,
            "A strategy variant was approved (its plan and calendar are built).",
            _object({"strategy_id": _ID, "title": _TEXT, "actor": _ACTOR}, {"rationale": _TEXT}),
        ),
        EventType(
            "creative.approved",
            1,
            "A creative variant was approved for sending.",
            _object({"creative_id": _ID, "subject": _TEXT, "actor": _ACTOR}, {"rationale": _TEXT}),
        ),
        EventType(
            "budget.warning",
            1,
            "A campaign spent the warning share of its budget cap (once per cap).",
            _object({"spent": _MONEY, "cap": _MONEY, "currency": _TEXT}),
        ),
        EventType(
            "budget.blocked",
            1,
            "A campaign's spending stopped: its budget cap is reached.",
            _object({"reason": _TEXT, "cap": {"type": ["string", "null"]}, "currency": _TEXT}),
        ),
        EventType(
            "mailbox.paused",
            1,
            "A sending mailbox was paused: its sender readiness failed or its bounce or complaint "
            "rate passed its threshold (docs/senders.md); a campaign goes on from its other mailboxes.",
            _object({"mailbox": _TEXT, "reason": _TEXT}),
        ),
    )
}

# The envelope every event is sent in (one event per POST, or many in a batch's "events").
ENVELOPE_SCHEMA: dict[str, Any] = _object(
    {
        "type": _TEXT,
        "version": _ID,
        "id": {**_TEXT, "description": "evt_…; the same on every retry and in a replay."},
        "occurred_at": _TIME,
        "client": _ID,
        "campaign": {"type": ["integer", "null"]},
        "data": {"type": "object"},
    }
)


def event_type(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise LookupError(f"Unknown event type {name!r}; known: {', '.join(EVENT_TYPES)}.") from None
