"""The settings area (/settings/, URL names `settings:*`): channels_app's pages, conversations' health
panel, and the outgoing webhooks. Mounted here, at the top layer, since each lower app's pages read
only what is below them."""

from django.urls import path

from conversations.settings_urls import urlpatterns as lower_settings
from integrations import views

app_name = "settings"

urlpatterns = [
    *lower_settings,
    path(
        "applications/<int:application_id>/outgoing-webhooks/",
        views.outgoing_webhooks,
        name="outgoing_webhooks",
    ),
    path("outgoing-webhooks/<int:subscription_id>/", views.outgoing_webhook, name="outgoing_webhook"),
    path(
        "outgoing-webhooks/<int:subscription_id>/rotate-secret/",
        views.outgoing_webhook_rotate,
        name="outgoing_webhook_rotate",
    ),
    path(
        "outgoing-webhooks/<int:subscription_id>/delete/",
        views.outgoing_webhook_delete,
        name="outgoing_webhook_delete",
    ),
    path(
        "outgoing-webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/resend/",
        views.outgoing_webhook_resend,
        name="outgoing_webhook_resend",
    ),
]
