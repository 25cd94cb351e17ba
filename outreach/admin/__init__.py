"""Outreach admin, one module per concern: sending (mailboxes, sequences, the cycle pages), records
(enrollments, messages, events), the reply inbox, operator tasks, and the campaign page's links."""

from . import campaign_links, inbox, mailboxes, operator_tasks, records, sending  # noqa: F401  (each registers its admins)
