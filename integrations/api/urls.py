"""/api/v1/: the public API, its index, its OpenAPI schema and its docs (Swagger UI, served from our static
files)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from integrations.api.endpoints import (
    account,
    admin,
    applications,
    contacts,
    conversations,
    root,
    teamwork,
    webhooks,
)
from integrations.api.errors import not_found

urlpatterns = [
    path("", root.ApiRoot.as_view(), name="api_v1_root"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api_schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", permission_classes=[AllowAny]),
        name="api_docs",
    ),
    path("me/", account.MeView.as_view(), name="api_me"),
    path("applications/", applications.ApplicationList.as_view(), name="api_v1_applications"),
    path(
        "applications/<int:application_id>/",
        applications.ApplicationDetail.as_view(),
        name="api_v1_application",
    ),
    path(
        "applications/<int:application_id>/channels/",
        applications.ChannelList.as_view(),
        name="api_v1_channels",
    ),
    path("channels/<int:channel_id>/", applications.ChannelDetail.as_view(), name="api_v1_channel"),
    path("conversations/", conversations.ConversationList.as_view(), name="api_v1_conversations"),
    path(
        "conversations/<int:conversation_id>/",
        conversations.ConversationDetail.as_view(),
        name="api_v1_conversation",
    ),
    path(
        "conversations/<int:conversation_id>/status/",
        conversations.ConversationStatus.as_view(),
        name="api_v1_conversation_status",
    ),
    path(
        "conversations/<int:conversation_id>/assign/",
        conversations.ConversationAssign.as_view(),
        name="api_v1_conversation_assign",
    ),
    path("conversations/<int:conversation_id>/notes/", teamwork.NoteList.as_view(), name="api_v1_notes"),
    path(
        "conversations/<int:conversation_id>/labels/",
        teamwork.ConversationLabels.as_view(),
        name="api_v1_conversation_labels",
    ),
    path(
        "applications/<int:application_id>/labels/",
        teamwork.ApplicationLabels.as_view(),
        name="api_v1_application_labels",
    ),
    path(
        "conversations/<int:conversation_id>/messages/",
        conversations.MessageList.as_view(),
        name="api_v1_messages",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/",
        conversations.MessageDetail.as_view(),
        name="api_v1_message",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/retry/",
        conversations.MessageRetry.as_view(),
        name="api_v1_message_retry",
    ),
    path("contacts/", contacts.ContactList.as_view(), name="api_v1_contacts"),
    path("contacts/<int:contact_id>/", contacts.ContactDetail.as_view(), name="api_v1_contact"),
    path("webhook-events/", admin.ReceivedEventList.as_view(), name="api_v1_received_events"),
    path("webhook-events/<int:event_id>/", admin.ReceivedEventDetail.as_view(), name="api_v1_received_event"),
    path("review/summary/", admin.ReviewSummary.as_view(), name="api_v1_review_summary"),
    path(
        "applications/<int:application_id>/webhooks/",
        webhooks.SubscriptionList.as_view(),
        name="api_v1_subscriptions",
    ),
    path(
        "webhooks/<int:subscription_id>/", webhooks.SubscriptionDetail.as_view(), name="api_v1_subscription"
    ),
    path(
        "webhooks/<int:subscription_id>/rotate-secret/",
        webhooks.SubscriptionRotateSecret.as_view(),
        name="api_v1_subscription_rotate",
    ),
    path(
        "webhooks/<int:subscription_id>/deliveries/",
        webhooks.DeliveryList.as_view(),
        name="api_v1_deliveries",
    ),
    path(
        "webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/",
        webhooks.DeliveryDetail.as_view(),
        name="api_v1_delivery",
    ),
    path(
        "webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/resend/",
        webhooks.DeliveryResend.as_view(),
        name="api_v1_delivery_resend",
    ),
    # Anything else under /api/v1/: the API's 404 shape, not the site's HTML page.
    path("<path:rest>", not_found, name="api_v1_not_found"),
]
