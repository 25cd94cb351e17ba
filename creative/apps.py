from django.apps import AppConfig


class CreativeConfig(AppConfig):
    name = "creative"
    verbose_name = "Creative"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.roles import register_role_permissions

        from . import permissions  # noqa: F401  (registers this app's actions)

        # Day-to-day work on creative for the operator role (and so approver and admin).
        register_role_permissions(
            "operator",
            [
                "creative.view_creativebrief",
                "creative.add_creativebrief",
                "creative.view_creativevariant",
                "creative.change_creativevariant",
            ],
        )
