"""Leads' actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import CLIENTS_OWN, register_action

register_action(
    "leads.add", label="add leads to a campaign", staff_permission="leads.add_lead", clients=CLIENTS_OWN
)
register_action(
    "leads.import", label="import a lead CSV", staff_permission="leads.add_leadimport", clients=CLIENTS_OWN
)
register_action(
    "suppression.add",
    label="add a do-not-contact entry",
    staff_permission="leads.add_suppression",
    clients=CLIENTS_OWN,
)
register_action(
    "leads.release",
    label="release a held lead for outreach",
    staff_permission="leads.change_lead",
)
