"""Outreach's actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import CLIENTS_OWN, register_action

register_action(
    "outreach.run_cycle",
    label="run a campaign's cycle as a dry run",
    staff_permission="campaigns.change_campaign",
    clients=CLIENTS_OWN,
)
register_action(
    "outreach.run_live_cycle",
    label="run a campaign's cycle live (sends real email)",
    staff_permission="campaigns.change_campaign",
)
register_action("task.work", label="work on operator tasks", staff_permission="outreach.change_operatortask")
register_action(
    "task.record_metrics",
    label="record an operator task's metrics",
    staff_permission="outreach.add_metricentry",
)
register_action(
    "mailbox.override_readiness",
    label="let a mailbox send despite failing sender readiness checks (with a rationale)",
    staff_permission="campaigns.override_checks",
)
# The reply inbox (docs/reply-inbox.md): agency staff only; client users read their replies.
register_action(
    "reply.categorise",
    label="re-categorise a reply (with a rationale)",
    staff_permission="outreach.change_inboundreply",
)
register_action("reply.handle", label="mark a reply handled", staff_permission="outreach.change_inboundreply")
register_action(
    "reply.answer",
    label="answer a reply from the inbox",
    staff_permission="outreach.change_inboundreply",
)
