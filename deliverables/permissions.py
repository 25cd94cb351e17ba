"""Deliverables' actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import register_action

register_action(
    "package.build",
    label="build a delivery package",
    staff_permission="deliverables.add_deliverypackage",
)
register_action(
    "client_report.review",
    label="edit, approve or skip a client report",
    staff_permission="deliverables.change_clientreport",
)
