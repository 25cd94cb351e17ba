from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "strategy"
    verbose_name = "Strategy"
    default_auto_field = "django.db.models.BigAutoField"
