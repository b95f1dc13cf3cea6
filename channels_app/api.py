"""Read API for Applications: what a signed-in user may see, with the URL the Hub's webhooks point at.

API keys and signing secrets are never part of an answer.
"""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from channels_app.access import visible_applications
from channels_app.actions import webhook_url
from channels_app.models import Application, Channel


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "kind", "display_name", "hub_channel_id", "active"]


class ApplicationSerializer(serializers.ModelSerializer):
    webhook_url = serializers.SerializerMethodField()
    channels = ChannelSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = ["id", "name", "webhook_url", "channels"]

    def get_webhook_url(self, application: Application) -> str:
        return webhook_url(application)


class ApplicationList(ListAPIView):
    serializer_class = ApplicationSerializer
    pagination_class = None  # a user sees a handful of Applications

    def get_queryset(self):
        return visible_applications(self.request.user).prefetch_related("channels").order_by("name", "id")


urlpatterns = [path("applications/", ApplicationList.as_view(), name="api_application_list")]
