from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "strategy"
    verbose_name = "Strategy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.lifecycle import register_activation_check, register_approval_check

        from .selectors import strategy_activation_blockers, strategy_approval_blockers

        # Campaigns cannot import strategy; we tell its lifecycle what strategy requires instead.
        register_approval_check(strategy_approval_blockers)
        register_activation_check(strategy_activation_blockers)
