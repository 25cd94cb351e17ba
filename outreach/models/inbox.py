"""The reply inbox's own tables: answers sent from the inbox, and a campaign's overrides of what
each reply category does (defaults in ``outreach.services.inbox.actions``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from campaigns.models import Campaign

from .mailboxes import SendingMailbox
from .sending import InboundReply

__all__ = ["ReplyAnswer", "ReplyRules"]


class ReplyAnswer(models.Model):
    """An answer an operator wrote in the inbox, sent through the mailbox the reply came to,
    threaded under it (In-Reply-To / References)."""

    reply = models.ForeignKey(InboundReply, on_delete=models.CASCADE, related_name="answers")
    mailbox = models.ForeignKey(
        SendingMailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_email = models.CharField(max_length=320)
    to_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=500)
    body_text = models.TextField()
    rfc_message_id = models.CharField(
        max_length=300, help_text="Our Message-ID header: its answer quotes it."
    )
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["rfc_message_id"], name="reply_answer_rfc_id")]

    def __str__(self) -> str:
        return f"Answer to reply {self.reply_id}: {self.subject[:40]}"


class ReplyRules(models.Model):
    """What a campaign does per reply category, where it differs from the defaults: ``actions``
    maps a category to its list of action names (``outreach.services.inbox.actions.ACTIONS``)."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="reply_rules")
    actions = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per category, the actions instead of the default, e.g. {"question": ["stop", '
        '"mark_replied", "answer_task"]}. Categories not named keep their defaults.',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "reply rules"
        verbose_name_plural = "reply rules"

    def __str__(self) -> str:
        return f"Reply rules of campaign {self.campaign_id}"
