"""Read API for Applications: what a signed-in user may see.

API keys and signing secrets are never part of an answer. The webhook URL is given only to the
Application's admins (and superusers): it is where anyone could post events, so agents do not get it.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from channels_app.access import visible_application_ids, visible_applications
from channels_app.actions.webhooks import webhook_url
from channels_app.models import Application, Channel, Membership


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "kind", "display_name", "hub_channel_id", "active"]


class ApplicationSerializer(serializers.ModelSerializer):
    """`webhook_url` is present only for Applications in the context's `administered_ids`."""

    webhook_url = serializers.SerializerMethodField()
    channels = ChannelSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = ["id", "name", "webhook_url", "channels"]

    def get_webhook_url(self, application: Application) -> str:
        return webhook_url(application)

    def to_representation(self, application: Application) -> dict[str, Any]:
        data = super().to_representation(application)
        if application.pk not in self.context.get("administered_ids", set()):
            del data["webhook_url"]
        return data


class ApplicationList(ListAPIView):
    serializer_class = ApplicationSerializer
    pagination_class = None  # a user sees a handful of Applications

    def get_queryset(self):
        return visible_applications(self.request.user).prefetch_related("channels").order_by("name", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        # One query for the whole list: which of these Applications the user administers.
        administered = visible_application_ids(self.request.user, role=Membership.Role.ADMIN)
        return {**super().get_serializer_context(), "administered_ids": set(administered)}


urlpatterns = [path("applications/", ApplicationList.as_view(), name="api_application_list")]
