from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.lifecycle import register_transition_handler

        from .services.sending import cancel_campaign_outreach

        # A kill cancels every scheduled message and stops every enrollment, in the kill's transaction.
        register_transition_handler("kill", cancel_campaign_outreach)
