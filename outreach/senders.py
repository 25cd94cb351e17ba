"""Who a message is from, decided once for scheduling, previews and test sends (docs/senders.md).

From: the sequence's mailbox, else the campaign's sender identity (the campaign's own values, else
its client's). ``DEFAULT_FROM_EMAIL`` only for what never leaves as live email (dry runs, previews of
a campaign with no identity yet): a live email campaign without a mailbox or an identity address is
refused at activation (``outreach.services.readiness``).
"""

from __future__ import annotations

from django.conf import settings

from campaigns.models import Campaign
from campaigns.sender_identity import SenderIdentity, sender_identity

from .addresses import format_address, split_address
from .models import SendingMailbox

__all__ = ["from_header_for", "reply_to_for", "signature_names"]


def from_header_for(
    campaign: Campaign, mailbox: SendingMailbox | None, identity: SenderIdentity | None = None
) -> str:
    if mailbox is not None:
        return mailbox.from_header
    identity = identity or sender_identity(campaign)
    if identity.from_email:
        return format_address(identity.from_name, identity.from_email)
    return settings.DEFAULT_FROM_EMAIL


def reply_to_for(
    campaign: Campaign, mailbox: SendingMailbox | None, identity: SenderIdentity | None = None
) -> str:
    """The Reply-To of a send: the mailbox's, else the identity's ("" for none)."""
    if mailbox is not None and mailbox.reply_to:
        return mailbox.reply_to
    return (identity or sender_identity(campaign)).reply_to


def signature_names(
    campaign: Campaign, mailbox: SendingMailbox | None, identity: SenderIdentity | None = None
) -> tuple[str, str]:
    """``(sender_name, sender_company)`` for the footer's name and company lines:
    the first of the mailbox's display name, the identity's from name and the campaign owner's that
    does not already hold the client's name, and the client's name; never the company twice
    ("Northwind Fleet Services, Northwind Fleet Services"): when every name holds it (or there is
    none), that name (or the company) alone, the company field empty."""
    identity = identity or sender_identity(campaign)
    company = campaign.client.name.strip()
    owner = campaign.owner
    candidates = (
        mailbox.display_name if mailbox is not None else "",
        identity.from_name,
        owner.get_full_name() if owner is not None else "",
        # last, the name of the From a send without mailbox or identity address carries
        split_address(settings.DEFAULT_FROM_EMAIL)[0] if mailbox is None and not identity.from_email else "",
    )
    names = [c.strip() for c in candidates if c and c.strip()]
    naming_company = [n for n in names if company and company.casefold() in n.casefold()]
    personal = [n for n in names if n not in naming_company]
    if personal:
        return personal[0], company
    return (naming_company[0] if naming_company else company), ""
