"""The reply categories: stored on reply records and used to pick the action for a reply.

The values are stored in the database: never rename one; add new ones at the end."""

from __future__ import annotations

from django.db import models


class ReplyCategory(models.TextChoices):
    INTERESTED = "interested", "Interested"
    MEETING_REQUEST = "meeting_request", "Meeting request"
    QUESTION = "question", "Question"
    NOT_INTERESTED = "not_interested", "Not interested"
    UNSUBSCRIBE_REQUEST = "unsubscribe_request", "Unsubscribe request"
    OUT_OF_OFFICE = "out_of_office", "Out of office"
    WRONG_PERSON = "wrong_person", "Wrong person / referral"
    BOUNCE = "bounce", "Bounce"
    AUTO_REPLY_OTHER = "auto_reply_other", "Other automatic reply"
    OTHER = "other", "Other"


class BounceKind(models.TextChoices):
    HARD = "hard", "Hard (permanent)"
    SOFT = "soft", "Soft (temporary)"


# Written by a machine, not a person: no human answered, so these never count as a reply.
AUTOMATIC_CATEGORIES = frozenset(
    {ReplyCategory.OUT_OF_OFFICE, ReplyCategory.BOUNCE, ReplyCategory.AUTO_REPLY_OTHER}
)
