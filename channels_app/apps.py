from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = _("Applications and channels")

    def ready(self) -> None:
        from channels_app import signals

        signals.connect_user_signals()
