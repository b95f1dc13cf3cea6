from django.apps import AppConfig


class HubsandboxConfig(AppConfig):
    name = "hubsandbox"
    verbose_name = "Hub sandbox"
    default_auto_field = "django.db.models.BigAutoField"
