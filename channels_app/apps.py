from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Applications and channels"

    def ready(self) -> None:
        from channels_app import signals

        signals.connect_user_signals()
