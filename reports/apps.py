from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports for leads: above `conversations` (it reads its tables and selectors), below `integrations`
    and the project; nothing imports it but the URLs. It owns no table: the figures are read from the
    conversation cycles and the messages that the conversations app's actions keep."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
