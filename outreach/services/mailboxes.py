"""Mailboxes: secrets written and re-encrypted (docs/senders.md; never logged, never returned), and
the one way a mailbox is paused (sender readiness, mailbox health)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from campaigns.events import emit_event
from campaigns.models import User
from campaigns.services.audit import record_audit_event

from ..models import SECRET_NAMES, SendingMailbox, Sequence
from ..secrets import rotate

__all__ = ["pause_mailbox", "rotate_mailbox_secrets", "set_mailbox_secrets"]


def pause_mailbox(locked: SendingMailbox, *, reason: str, rationale: str, metadata: dict) -> None:
    """Pause a mailbox the caller has locked in its transaction: no more sends from it (no room
    under its cap) while other mailboxes of a campaign go on; ``is_active`` off with the reason, one
    ``mailbox.paused`` audit event naming the campaigns that send from it, and the
    ``mailbox.paused`` event for its client's webhook endpoints. An approver resumes it."""
    locked.is_active, locked.paused_reason = False, reason[:500]
    locked.save(update_fields=["is_active", "paused_reason"])
    campaigns = Sequence.objects.filter(Q(mailbox=locked) | Q(mailboxes=locked), is_active=True)
    record_audit_event(
        verb="mailbox.paused",
        target=locked,
        rationale=rationale,
        metadata={
            "mailbox": locked.email,
            **metadata,
            "campaigns": sorted(set(campaigns.values_list("campaign_id", flat=True))),
        },
    )
    if locked.client_id:
        emit_event(
            "mailbox.paused",
            client=locked.client_id,
            data={"mailbox": locked.email, "reason": locked.paused_reason},
        )


def set_mailbox_secrets(
    *, mailbox: SendingMailbox, actor: User | None = None, **secrets: str | None
) -> list[str]:
    """``set_mailbox_secrets(mailbox=…, smtp_password="…")``: None (or absent) keeps a secret, "" clears
    it. Saved encrypted; the audit event names what changed, never a value."""
    unknown = set(secrets) - set(SECRET_NAMES)
    if unknown:
        raise ValueError(f"Not mailbox secrets: {', '.join(sorted(unknown))}.")
    changed = [name for name, value in secrets.items() if value is not None]
    if not changed:
        return []
    for name in changed:
        mailbox.set_secret(name, secrets[name] or "")
    with transaction.atomic():
        mailbox.save(update_fields=[f"{name}_token" for name in changed])
        record_audit_event(
            verb="mailbox.secrets_changed",
            actor=actor,
            target=mailbox,
            metadata={"mailbox": mailbox.email, "secrets": changed},
        )
    return changed


def rotate_mailbox_secrets(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored secret with the first of AICMO_SECRET_KEYS. Returns how many."""
    rotated = 0
    columns = [f"{name}_token" for name in SECRET_NAMES]
    with transaction.atomic():
        for mailbox in SendingMailbox.objects.select_for_update().only("pk", *columns).iterator(batch_size):
            for column in columns:
                token = getattr(mailbox, column)
                if token:
                    setattr(mailbox, column, rotate(token))
                    rotated += 1
            mailbox.save(update_fields=columns)
    return rotated
