"""Who a campaign's emails come from: the client's sender identity, field by field overridden by the
campaign's own (docs/senders.md).

One place decides every field, so the From of a send, the footer's postal address, the campaign
page and the activation blocker never disagree. The postal address has no default: an email without
the client's real address is not sent live (``postal_address_blockers``). A compliance policy's older
``sender_postal_address`` still counts, after the campaign's and the client's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import Campaign, Client

__all__ = [
    "IDENTITY_FIELDS",
    "SenderIdentity",
    "client_identity",
    "postal_address_blockers",
    "sender_identity",
    "validate_identity_values",
]

# Model field -> SenderIdentity attribute.
IDENTITY_FIELDS = {
    "sender_from_name": "from_name",
    "sender_from_email": "from_email",
    "sender_reply_to": "reply_to",
    "sending_domain": "sending_domain",
    "sender_postal_address": "postal_address",
    "tracking_domain": "tracking_domain",
}
DOMAIN_FIELDS = frozenset({"sending_domain", "tracking_domain"})


@dataclass(frozen=True)
class SenderIdentity:
    from_name: str = ""
    from_email: str = ""
    reply_to: str = ""
    sending_domain: str = ""
    postal_address: str = ""
    tracking_domain: str = ""
    # attribute -> where its value came from: "campaign", "client", "policy" or "" (not set)
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def domain(self) -> str:
        """The domain readiness checks: the sending domain, else the from address's domain."""
        chosen = self.sending_domain or self.from_email.rpartition("@")[2]
        return chosen.strip().strip(".").lower()


def _value(obj, name: str) -> str:
    return (getattr(obj, name, "") or "").strip()


def client_identity(client: Client) -> SenderIdentity:
    values = {attr: _value(client, name) for name, attr in IDENTITY_FIELDS.items()}
    return SenderIdentity(**values, sources={a: "client" for a, v in values.items() if v})


def sender_identity(campaign: Campaign) -> SenderIdentity:
    """The campaign's own value of each field, else its client's; the postal address last from the
    effective compliance policy (where it was kept before identities existed). Never a default."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, attr in IDENTITY_FIELDS.items():
        for source, obj in (("campaign", campaign), ("client", campaign.client)):
            value = _value(obj, name)
            if value:
                values[attr], sources[attr] = value, source
                break
        else:
            values[attr] = ""
    if not values["postal_address"]:
        from .selectors import effective_policy  # selectors imports this module for its blocker

        policy_address = effective_policy(campaign).sender_postal_address
        if policy_address:
            values["postal_address"], sources["postal_address"] = policy_address, "policy"
    return SenderIdentity(**values, sources=sources)


def postal_address_blockers(campaign: Campaign) -> list[str]:
    """A live email campaign needs a postal address (CAN-SPAM): there is no fallback address."""
    if not (campaign.is_live and "email" in (campaign.channels or [])):
        return []
    if sender_identity(campaign).postal_address:
        return []
    return [
        "a live email campaign needs a sender postal address (CAN-SPAM): set it in the client's "
        "sender identity or on the campaign"
    ]


def validate_identity_values(values: dict[str, str]) -> dict[str, str]:
    """Clean the identity fields given (model field names): addresses valid, the domain bare."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for name, raw in values.items():
        if name not in IDENTITY_FIELDS:
            continue
        value = (raw or "").strip()
        if name in ("sender_from_email", "sender_reply_to") and value:
            try:
                validate_email(value)
            except ValidationError:
                errors[name] = "Enter a valid email address."
        if name in DOMAIN_FIELDS and value:
            value = value.lower().strip(".")
            if "@" in value or "/" in value or "." not in value or " " in value:
                errors[name] = "Enter a bare domain, e.g. mail.northwind.example."
        if name == "sender_from_name" and any(ch in value for ch in "\r\n<>"):
            errors[name] = "A name without line breaks or angle brackets."
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
