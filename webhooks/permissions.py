"""Webhooks' actions and who may take them (rules in campaigns.permissions; imported by ready())."""

from campaigns.permissions import CLIENTS_OWN, register_action

# Client users manage their own client's endpoints through the API; staff need the admin role.
register_action(
    "webhook.manage",
    label="create, change, delete, ping or rotate the secret of a webhook endpoint",
    staff_permission="webhooks.change_webhookendpoint",
    clients=CLIENTS_OWN,
)
register_action(
    "webhook.replay",
    label="replay failed webhook deliveries",
    staff_permission="webhooks.change_webhookdelivery",
)
