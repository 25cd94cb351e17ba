"""What an operator does in the reply inbox: re-categorise a reply (with a rationale; the new
category's actions run), mark it handled, and answer it through the mailbox it came to, in its
thread. Each checks the role (``campaigns.permissions``) and is audited."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.permissions import require_action
from campaigns.services.audit import record_audit_event

from ...message_ids import new_rfc_message_id
from ...models import InboundReply, ReplyAnswer, SendingMailbox
from ...replies.categories import AUTOMATIC_CATEGORIES, ReplyCategory
from ...transports import connection_for
from .actions import apply_actions
from .parsing import message_ids

__all__ = ["answer_reply", "mark_reply_handled", "recategorise_reply"]

MAX_ANSWER_CHARS = 20_000


def _reply(reply: InboundReply | int) -> InboundReply:
    pk = reply.pk if isinstance(reply, InboundReply) else int(reply)
    found = (
        InboundReply.objects.select_for_update(of=("self",))
        .select_related("campaign__client", "message__lead", "message__campaign__client", "mailbox")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise DomainError(f"Reply {pk} does not exist.")
    return found


def _rationale(text: str, doing: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(f"Say why to {doing}.", field="rationale")
    return text[:2000]


def recategorise_reply(*, reply: InboundReply | int, category: str, actor, rationale: str) -> InboundReply:
    """Correct the classifier: the reply gets ``category`` and that category's actions run (a
    reply corrected to "unsubscribe request" suppresses the address). The classifier's own verdict
    stays in ``classifier_category``; ``corrected`` counts it as the classifier's mistake."""
    if category not in ReplyCategory.values:
        raise DomainError(f"Unknown category {category!r}.", field="category")
    why = _rationale(rationale, "re-categorise a reply")
    with transaction.atomic():
        locked = _reply(reply)
        require_action(actor, "reply.categorise", locked.campaign)
        before = locked.category
        if before == category:
            return locked
        locked.category = category
        locked.corrected = category != locked.classifier_category
        locked.is_auto_reply = category in AUTOMATIC_CATEGORIES
        locked.category_reason = f"Re-categorised by {actor.get_username()}: {why}"[:500]
        locked.save(update_fields=["category", "corrected", "is_auto_reply", "category_reason"])
        record_audit_event(
            verb="reply.recategorised",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            rationale=why,
            metadata={
                "reply_id": locked.pk,
                "from": before,
                "to": category,
                "classifier": locked.classifier_category,
            },
        )
        apply_actions(reply=locked, actor=actor)
    return locked


def mark_reply_handled(*, reply: InboundReply | int, actor, rationale: str = "") -> InboundReply:
    with transaction.atomic():
        locked = _reply(reply)
        require_action(actor, "reply.handle", locked.campaign)
        if locked.handled_at is not None:
            return locked
        locked.handled_at, locked.handled_by = timezone.now(), actor
        locked.save(update_fields=["handled_at", "handled_by"])
        record_audit_event(
            verb="reply.handled", actor=actor, campaign=locked.campaign, target=locked, rationale=rationale
        )
    return locked


def _answer_mailbox(reply: InboundReply) -> SendingMailbox | None:
    if reply.mailbox is not None:
        return reply.mailbox
    return reply.message.mailbox if reply.message is not None else None


def answer_reply(*, reply: InboundReply | int, body: str, actor, subject: str = "") -> ReplyAnswer:
    """Send ``body`` to the reply's sender through the mailbox it came to (the sequence's mailbox for
    a webhook reply), threaded under it; recorded, audited, and the reply marked handled."""
    body = (body or "").strip()
    if not body:
        raise DomainError("Write the answer first.", field="body")
    if len(body) > MAX_ANSWER_CHARS:
        raise DomainError(f"An answer holds at most {MAX_ANSWER_CHARS} characters.", field="body")
    pk = reply.pk if isinstance(reply, InboundReply) else int(reply)
    current = InboundReply.objects.select_related("campaign", "message", "mailbox").filter(pk=pk).first()
    if current is None:
        raise DomainError(f"Reply {pk} does not exist.")
    require_action(actor, "reply.answer", current.campaign)
    mailbox = _answer_mailbox(current)
    from_email = (
        mailbox.from_header
        if mailbox is not None
        else (current.message.from_email if current.message else "")
    )
    if not from_email:
        raise DomainError("This reply came to no mailbox of ours: there is nothing to answer from.")
    original = current.message_id_header if current.message_id_header.startswith("<") else ""
    references = [i for i in _thread_of(current) if i != original] + ([original] if original else [])
    subject = (subject or "").strip() or _re(current.subject)
    message_id = new_rfc_message_id(from_email)
    headers = {"Message-ID": message_id}
    if original:
        headers["In-Reply-To"] = original
    if references:
        headers["References"] = " ".join(references[-20:])
    email = EmailMessage(
        subject=subject[:500],
        body=body,
        from_email=from_email,
        to=[current.from_email],
        headers=headers,
        connection=connection_for(mailbox),
    )
    # Sent first, recorded after: a failed send raises and records nothing.
    email.send(fail_silently=False)
    now = timezone.now()
    with transaction.atomic():
        locked = _reply(current.pk)
        answer = ReplyAnswer.objects.create(
            reply=locked,
            mailbox=mailbox,
            from_email=from_email[:320],
            to_email=current.from_email,
            subject=subject[:500],
            body_text=body,
            rfc_message_id=message_id,
            in_reply_to=original,
            references=" ".join(references),
            sent_at=now,
            sent_by=actor,
        )
        if locked.handled_at is None:
            locked.handled_at, locked.handled_by = now, actor
            locked.save(update_fields=["handled_at", "handled_by"])
        record_audit_event(
            verb="reply.answered",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            metadata={
                "reply_id": locked.pk,
                "answer_id": answer.pk,
                "mailbox_id": mailbox.pk if mailbox else None,
            },
        )
    return answer


def _thread_of(reply: InboundReply) -> list[str]:
    """Our earlier Message-IDs in the thread: the message it answered, and the quoted ones."""
    ids = message_ids(reply.in_reply_to)
    if reply.message is not None and reply.message.rfc_message_id:
        ids = [reply.message.rfc_message_id, *[i for i in ids if i != reply.message.rfc_message_id]]
    return ids


def _re(subject: str) -> str:
    return subject if subject.lower().startswith(("re:", "aw:", "réf", "sv:")) else f"Re: {subject}"
