from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """The public REST API (/api/v1/), its tokens, and outgoing webhooks: the top layer, above
    conversations and channels_app, which hear of it only through channels_app/hooks.py."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from integrations import receivers

        receivers.connect()
