from django.apps import AppConfig


class CreativeConfig(AppConfig):
    name = "creative"
    verbose_name = "Creative"
    default_auto_field = "django.db.models.BigAutoField"
