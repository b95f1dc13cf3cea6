"""channels_app's part of the settings area (/settings/): Applications, Channels, Hub webhooks, team and
audit log. Mounted with the health panel by `conversations/settings_urls.py` (the panel reads
conversations' tables, and channels_app never imports conversations).

Only admins of an Application (and superusers) get in; see channels_app/views.py.
"""

from django.urls import path

from channels_app import views

urlpatterns = [
    path("", views.index, name="index"),
    path("applications/new/", views.application_create, name="application_create"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path("applications/<int:application_id>/key/", views.application_key, name="application_key"),
    path(
        "applications/<int:application_id>/service-level/",
        views.application_service_level,
        name="application_service_level",
    ),
    path(
        "applications/<int:application_id>/test-connection/",
        views.application_test_connection,
        name="application_test_connection",
    ),
    path("applications/<int:application_id>/channels/new/", views.channel_create, name="channel_create"),
    path("channels/<int:channel_id>/", views.channel_detail, name="channel"),
    path("channels/<int:channel_id>/active/", views.channel_active, name="channel_active"),
    path("channels/<int:channel_id>/test-message/", views.channel_test_message, name="channel_test_message"),
    path("applications/<int:application_id>/webhooks/", views.webhooks, name="webhooks"),
    path(
        "applications/<int:application_id>/webhooks/connect/", views.webhooks_connect, name="webhooks_connect"
    ),
    path(
        "applications/<int:application_id>/webhooks/refresh/", views.webhooks_refresh, name="webhooks_refresh"
    ),
    path(
        "applications/<int:application_id>/webhooks/recover/", views.webhooks_recover, name="webhooks_recover"
    ),
    path(
        "applications/<int:application_id>/webhooks/unsigned/",
        views.webhooks_accept_unsigned,
        name="webhooks_accept_unsigned",
    ),
    path("applications/<int:application_id>/webhooks/logs/", views.webhook_logs, name="webhook_logs"),
    path(
        "applications/<int:application_id>/webhooks/logs/retry/",
        views.webhook_logs_retry,
        name="webhook_logs_retry",
    ),
    path("team/", views.team, name="team"),
    path("team/new/", views.user_create, name="user_create"),
    path("team/<int:user_id>/", views.user_detail, name="user"),
    path("team/<int:user_id>/active/", views.user_active, name="user_active"),
    path("audit/", views.audit_log, name="audit"),
]
