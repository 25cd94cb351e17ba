"""Creative's actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import CLIENTS_IF_CLIENT_APPROVAL, register_action

register_action("creative.generate", label="generate creative", staff_permission="creative.add_creativebrief")
register_action("creative.edit", label="edit creative", staff_permission="creative.change_creativevariant")
register_action(
    "creative.decide",
    label="approve, reject or request changes to creative",
    staff_permission="creative.change_creativevariant",
    clients=CLIENTS_IF_CLIENT_APPROVAL,
)
# Whatever the campaign's allow_client_approval says: overriding failing checks (a missing
# unsubscribe link or postal address, say) is the agency's decision, never the client's.
register_action(
    "creative.override_checks",
    label="approve creative that fails its checks (an override)",
    staff_permission="campaigns.override_checks",
)
