"""The settings area (/settings/, URL names `settings:*`): channels_app's pages and the health panel.

The panel reads conversations' tables, so it is added here, one layer up, rather than in channels_app.
"""

from django.urls import path

from channels_app.settings_urls import urlpatterns as channels_app_settings
from conversations.views import health, teamwork

app_name = "settings"

urlpatterns = [
    *channels_app_settings,
    path("health/", health.health, name="health"),
    path("applications/<int:application_id>/labels/", teamwork.labels_settings, name="labels"),
    path("labels/<int:label_id>/", teamwork.label_edit, name="label_edit"),
    path("labels/<int:label_id>/delete/", teamwork.label_delete, name="label_delete"),
    path(
        "applications/<int:application_id>/canned-replies/",
        teamwork.canned_replies_settings,
        name="canned_replies",
    ),
    path("canned-replies/<int:reply_id>/", teamwork.canned_reply_edit, name="canned_reply_edit"),
    path("canned-replies/<int:reply_id>/delete/", teamwork.canned_reply_delete, name="canned_reply_delete"),
]
