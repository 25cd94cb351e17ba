"""Setting a client's sender identity, or a campaign's overrides of it (docs/senders.md).

The only writer of the identity fields; the admin (client onboarding, the campaign page) and the API
(``/clients/{id}/sender-identity/``, ``/campaigns/{id}/sender-identity/``) both call it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from ..errors import DomainError
from ..models import Campaign, Client, User
from ..permissions import require_action_unless_system
from ..sender_identity import IDENTITY_FIELDS, validate_identity_values
from .audit import record_audit_event

__all__ = ["set_sender_identity"]


def set_sender_identity(
    *, target: Client | Campaign, values: dict[str, str], actor: User | None = None
) -> list[str]:
    """Write the given identity fields (model field names; "" clears one, on a campaign: back to the
    client's). Returns the names of the fields that changed; an audit event lists them."""
    require_action_unless_system(actor, "sender_identity.set", target)
    unknown = sorted(set(values) - set(IDENTITY_FIELDS))
    if unknown:
        raise DomainError(f"Not a sender identity field: {', '.join(unknown)}.", field=unknown[0])
    try:
        cleaned = validate_identity_values(values)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise DomainError(f"{name}: {' '.join(messages)}", field=name) from exc
    with transaction.atomic():
        locked = type(target).objects.select_for_update().get(pk=target.pk)
        changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
        if not changed:
            return []
        for name in changed:
            setattr(locked, name, cleaned[name])
            setattr(target, name, cleaned[name])
        locked.save(update_fields=changed)
        campaign = locked if isinstance(locked, Campaign) else None
        record_audit_event(
            verb="sender_identity.changed",
            actor=actor,
            campaign=campaign,
            target=locked,
            metadata={"fields": changed, **{name: cleaned[name] for name in changed}},
        )
    return changed
