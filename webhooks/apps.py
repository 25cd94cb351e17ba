from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.events import register_subscription_lookup
        from campaigns.roles import register_role_permissions

        from . import permissions  # noqa: F401  (registers this app's actions)
        from .selectors import subscribed_types

        # Operators read the delivery logs; the admin role manages endpoints and replays.
        register_role_permissions(
            "operator", ["webhooks.view_webhookendpoint", "webhooks.view_webhookdelivery"]
        )
        register_role_permissions(
            "admin",
            [
                "webhooks.add_webhookendpoint",
                "webhooks.change_webhookendpoint",
                "webhooks.delete_webhookendpoint",
                "webhooks.change_webhookdelivery",
            ],
        )
        # campaigns.events writes an event only when some endpoint of the client wants it.
        register_subscription_lookup(subscribed_types)

        from campaigns.retention import register_retention_pruner

        from .services import prune_old_webhook_rows

        register_retention_pruner("webhooks.deliveries", prune_old_webhook_rows)

        from leads.erasure import register_erasure_handler

        from .services.erasure import erase_webhook_personal_data

        # Event bodies name leads: an erased person leaves them too.
        register_erasure_handler("webhooks.payloads", erase_webhook_personal_data)
