from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.roles import register_role_permissions

        from . import permissions  # noqa: F401  (registers this app's actions)

        # Day-to-day work on leads for the operator role (and so approver and admin).
        register_role_permissions(
            "operator",
            [
                "leads.view_lead",
                "leads.add_lead",
                "leads.change_lead",
                "leads.view_leadimport",
                "leads.add_leadimport",
                "leads.view_leadimportissue",
                "leads.view_suppression",
                "leads.add_suppression",
                "leads.view_consentrecord",
                "leads.add_consentrecord",
                "leads.change_consentrecord",
                "leads.view_leadpolicy",
                "leads.change_leadpolicy",
            ],
        )
