from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The scripted demo campaign (`manage.py demo`): the top layer, above reporting, because it
    drives every other app through its services. It has no models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo"
