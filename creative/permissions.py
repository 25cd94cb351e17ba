"""Creative's actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import CLIENTS_IF_CLIENT_APPROVAL, register_action

register_action("creative.generate", label="generate creative", staff_permission="creative.add_creativebrief")
register_action("creative.edit", label="edit creative", staff_permission="creative.change_creativevariant")
# Putting an edited draft (or one with changes requested) back in review is the editor's step: the
# agency's, like the edit itself.
register_action(
    "creative.submit",
    label="submit creative for review",
    staff_permission="creative.change_creativevariant",
)
# A test send goes to the requesting user's own address only; it is never outreach (no message,
# no cap, no budget), but it does send through the agency's email backend: staff only.
register_action(
    "creative.test_send",
    label="send a test of creative to yourself",
    staff_permission="creative.change_creativevariant",
)
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
