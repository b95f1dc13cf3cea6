from django.apps import AppConfig


class HubsandboxConfig(AppConfig):
    name = "hubsandbox"
    verbose_name = "Hub sandbox"
