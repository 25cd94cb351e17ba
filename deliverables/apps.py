from django.apps import AppConfig


class DeliverablesConfig(AppConfig):
    name = "deliverables"
    verbose_name = "Client deliverables"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.roles import register_role_permissions

        from . import permissions  # noqa: F401  (registers this app's actions)

        # Packages and the review of client reports are the operator's day-to-day work; schedules
        # and recipients too. Sending without review is a governance choice: the admin role's.
        register_role_permissions(
            "operator",
            [
                "deliverables.view_deliverypackage",
                "deliverables.add_deliverypackage",
                "deliverables.view_clientreport",
                "deliverables.change_clientreport",
                "deliverables.view_reportschedule",
                "deliverables.add_reportschedule",
                "deliverables.change_reportschedule",
                "deliverables.view_clientreportsettings",
            ],
        )
        register_role_permissions(
            "admin",
            ["deliverables.add_clientreportsettings", "deliverables.change_clientreportsettings"],
        )
