"""Which of our emails a reply answers. In order: a Message-ID it quotes (In-Reply-To, References;
a bounce's quoted original) among our messages and inbox answers; else the sender's address among
the leads we wrote to (a loose match); else nothing — the reply is kept unmatched, never dropped.

``reply_sender_match`` then says whether the sender is the lead: only then does a reply act."""

from __future__ import annotations

from dataclasses import dataclass

from leads.models import Lead
from leads.normalization import InvalidEmailError, email_domain, normalize_email

from ...models import Message, MessageState, ReplyAnswer, ReplyMatch, ReplySenderMatch, SendingMailbox

__all__ = ["ReplyTarget", "match_reply", "reply_sender_match"]


@dataclass(frozen=True)
class ReplyTarget:
    message: Message | None
    matched_by: str
    sender_match: str

    @property
    def campaign_id(self) -> int | None:
        return self.message.campaign_id if self.message is not None else None


def _normalized_or_empty(address: str) -> str:
    try:
        return normalize_email(address)
    except InvalidEmailError:
        return ""


def reply_sender_match(from_email: str, message: Message) -> str:
    """The sender is the lead when its address, normalized as leads are (case, Gmail's dots and
    +tags), is the lead's or the one the message went to; the same domain is a loose match."""
    sender = _normalized_or_empty(from_email)
    if not sender:
        return ReplySenderMatch.UNMATCHED
    lead = message.lead
    lead_addresses = {lead.normalized_email, _normalized_or_empty(message.to_email)} - {""}
    if sender in lead_addresses:
        return ReplySenderMatch.MATCHED
    if email_domain(sender) in {email_domain(a) for a in lead_addresses}:
        return ReplySenderMatch.LOOSE
    return ReplySenderMatch.UNMATCHED


def _by_thread(ids: list[str]) -> Message | None:
    if not ids:
        return None
    # Ids first (a narrow query), then the one message with what the actions read.
    found = dict(Message.objects.filter(rfc_message_id__in=ids).values_list("rfc_message_id", "pk"))
    pk = next((found[i] for i in ids if i in found), None)  # the order given: In-Reply-To first
    if pk is None:
        # An answer written in the inbox is ours too: a reply to it belongs to the same message.
        answers = dict(
            ReplyAnswer.objects.filter(rfc_message_id__in=ids, reply__message__isnull=False).values_list(
                "rfc_message_id", "reply__message_id"
            )
        )
        pk = next((answers[i] for i in ids if i in answers), None)
    if pk is None:
        return None
    return Message.objects.select_related("lead", "campaign__client").filter(pk=pk).first()


def _by_sender(from_email: str, mailbox: SendingMailbox | None) -> Message | None:
    sender = _normalized_or_empty(from_email)
    if not sender:
        return None
    leads = Lead.objects.filter(normalized_email=sender).values("pk")
    sent = Message.objects.filter(lead__in=leads, state=MessageState.SENT, dry_run=False)
    if mailbox is not None:
        # The mailbox it came to names the campaign best; any of our sends to the address else.
        own = sent.filter(mailbox=mailbox).select_related("lead", "campaign__client").order_by("-sent_at")
        message = own.first()
        if message is not None:
            return message
    return sent.select_related("lead", "campaign__client").order_by("-sent_at", "-id").first()


def match_reply(
    *, from_email: str, thread_ids: list[str], mailbox: SendingMailbox | None = None
) -> ReplyTarget:
    message = _by_thread(thread_ids)
    if message is not None:
        return ReplyTarget(message, ReplyMatch.THREAD, reply_sender_match(from_email, message))
    message = _by_sender(from_email, mailbox)
    if message is not None:
        return ReplyTarget(message, ReplyMatch.SENDER, reply_sender_match(from_email, message))
    return ReplyTarget(None, ReplyMatch.NONE, ReplySenderMatch.UNMATCHED)
