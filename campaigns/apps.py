from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import risk  # noqa: F401  (registers the built-in risk rules)
        from .lifecycle import register_activation_check
        from .roles import sync_role_groups_after_migrate
        from .selectors import compliance_activation_blockers

        register_activation_check(compliance_activation_blockers)
        # Permissions of every app exist only once all migrations ran; grant registered ones then.
        post_migrate.connect(sync_role_groups_after_migrate, dispatch_uid="campaigns.sync_role_groups")
