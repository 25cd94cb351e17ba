"""Strategy's actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import CLIENTS_IF_CLIENT_APPROVAL, register_action

register_action(
    "strategy.generate", label="generate strategies", staff_permission="strategy.add_strategybatch"
)
register_action(
    "strategy.edit_brief", label="edit a strategy brief", staff_permission="strategy.change_brief"
)
register_action(
    "strategy.decide",
    label="select, approve or reject a strategy",
    staff_permission="strategy.change_strategyvariant",
    clients=CLIENTS_IF_CLIENT_APPROVAL,
)
