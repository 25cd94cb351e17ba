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
