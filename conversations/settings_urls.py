"""The settings area (/settings/, URL names `settings:*`): channels_app's pages and the health panel.

The panel reads conversations' tables, so it is added here, one layer up, rather than in channels_app.
"""

from django.urls import path

from channels_app.settings_urls import urlpatterns as channels_app_settings
from conversations.views import health

app_name = "settings"

urlpatterns = [
    *channels_app_settings,
    path("health/", health.health, name="health"),
]
