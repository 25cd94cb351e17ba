from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.roles import register_role_permissions

        from . import permissions  # noqa: F401  (registers this app's actions)

        # Recording won deals is day-to-day work of the operator role (and so approver and admin).
        register_role_permissions("operator", ["reporting.view_outcome", "reporting.add_outcome"])

        from campaigns.metrics_hooks import register_campaign_metrics

        from .selectors.metrics import campaign_metrics, list_metrics_for_campaigns

        # The campaign API (in campaigns, which cannot import us) shows these live numbers.
        register_campaign_metrics(
            list_metrics=list_metrics_for_campaigns,
            detail_metrics=lambda campaign: campaign_metrics(campaign).as_dict(),
        )
