"""How the API shows each object (read-only serializers). Outgoing webhooks send the same shapes, so an
integration reads a message from a `message.created` delivery exactly as from `GET …/messages/`.

Secrets never appear: an Application shows only the last four characters of its Hub API key, and its
webhook URL (where anyone could post events) only to its admins, as on the pages.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels_app.actions.webhooks import webhook_url
from channels_app.hub.capabilities import ChannelKind
from channels_app.models import Application
from conversations.models import Conversation, Message, SendAttempt
from conversations.models import WebhookEvent as ReceivedEvent
from integrations.models import WebhookDelivery, WebhookEvent

KIND_CHOICES = [(kind.value, kind.label) for kind in ChannelKind]


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return str(user.get_full_name() or user.username)


class ChannelSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    display_name = serializers.CharField()


class ChannelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    display_name = serializers.CharField()
    hub_channel_id = serializers.UUIDField(help_text="The channel's UUID at the Hub.")
    active = serializers.BooleanField(
        help_text="A deactivated channel keeps its history but sends no replies."
    )
    created_at = serializers.DateTimeField()


class ApplicationSerializer(serializers.Serializer):
    """`webhook_url` is given only to the Application's admins (context `administered_ids`)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    hub_api_key_hint = serializers.CharField(
        source="masked_api_key", help_text="The Hub API key's last four characters; the key is write-only."
    )
    accept_unsigned_events = serializers.BooleanField()
    webhook_url = serializers.SerializerMethodField(
        help_text="Where the Hub posts events; only for the Application's admins, else null."
    )
    role = serializers.SerializerMethodField(help_text="Your role: admin or agent (null: a superuser).")
    channels = ChannelSerializer(many=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_webhook_url(self, application: Application) -> str | None:
        return (
            webhook_url(application) if application.pk in self.context.get("administered_ids", ()) else None
        )

    @extend_schema_field(serializers.ChoiceField(choices=["admin", "agent"], allow_null=True))
    def get_role(self, application: Application) -> str | None:
        roles: dict[int, str] = self.context.get("roles", {})
        return roles.get(application.pk)


class ContactSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(
        help_text="The customer's id on the channel (phone number, chat id…)."
    )
    display_name = serializers.CharField(help_text="The name agents gave the contact; empty until named.")


class MessageSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=Message.Direction.choices)
    preview = serializers.CharField()
    status = serializers.ChoiceField(choices=Message.Status.choices)
    created_at = serializers.DateTimeField()


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    channel = ChannelSummarySerializer()
    contact = ContactSummarySerializer()
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    status_changed_at = serializers.DateTimeField(allow_null=True)
    status_changed_by = UserSummarySerializer(
        allow_null=True,
        help_text="Who last changed the status (null: the customer reopened it, or never).",
    )
    assignee = UserSummarySerializer(allow_null=True)
    last_message = MessageSummarySerializer(allow_null=True)
    last_activity_at = serializers.DateTimeField()
    last_inbound_at = serializers.DateTimeField(allow_null=True)
    unread_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField(source="channel.application_id")
    channel = ChannelSummarySerializer()
    external_id = serializers.CharField()
    display_name = serializers.CharField()
    conversation_id = serializers.IntegerField(source="conversation.pk")
    created_at = serializers.DateTimeField()


class LinkedContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = ChannelSummarySerializer()
    display_name = serializers.CharField()
    conversation_id = serializers.IntegerField(source="conversation.pk")


class ContactDetailSerializer(ContactSerializer):
    linked_contacts = LinkedContactSerializer(
        many=True,
        source="linked",
        help_text="The same id (e.g. a phone number) on the Application's other channels.",
    )


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Message.Status.choices)
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    applied = serializers.BooleanField(help_text="False for a late or repeated report that moved nothing.")

    def get_fields(self) -> dict[str, serializers.Field]:
        # `source` cannot be a class attribute: every DRF field already has one (where to read from).
        return {
            **super().get_fields(),
            "source": serializers.CharField(help_text="webhook, send or retry."),
        }


class SendAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.ChoiceField(choices=SendAttempt.Outcome.choices)
    http_status = serializers.IntegerField(allow_null=True)
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    hub_request_id = serializers.CharField()
    manual = serializers.BooleanField(help_text="Started by an agent's retry.")


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=Message.Direction.choices)
    content = serializers.JSONField(help_text="The content object as the Hub sends or receives it.")
    preview = serializers.CharField()
    status = serializers.ChoiceField(choices=Message.Status.choices)
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    author = UserSummarySerializer(allow_null=True, help_text="The agent who wrote a reply.")
    hub_message_id = serializers.CharField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField(allow_null=True)
    attempt_count = serializers.IntegerField()
    status_history = StatusChangeSerializer(many=True, source="status_changes.all")
    attempts = SendAttemptSerializer(many=True, source="attempts.all")


class ReceivedEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField(allow_null=True)
    received_at = serializers.DateTimeField()
    event_type = serializers.CharField()
    outcome = serializers.ChoiceField(choices=ReceivedEvent.Outcome.choices)
    error = serializers.CharField()
    processed_at = serializers.DateTimeField(allow_null=True)
    reprocessed_count = serializers.IntegerField()


class ReceivedEventDetailSerializer(ReceivedEventSerializer):
    headers = serializers.DictField(child=serializers.CharField())
    body = serializers.SerializerMethodField(help_text="The body as received, decoded as UTF-8.")

    def get_body(self, event: ReceivedEvent) -> str:
        return bytes(event.body).decode("utf-8", errors="replace")


class TimingSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)


class ReviewSummarySerializer(serializers.Serializer):
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Replies per status, plus `total` and `stuck`."
    )
    to_delivered = TimingSerializer()
    to_read = TimingSerializer()


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    description = serializers.CharField()
    active = serializers.BooleanField()
    disabled_at = serializers.DateTimeField(
        allow_null=True, help_text="When a run of failed deliveries turned it off."
    )
    disabled_reason = serializers.CharField()
    consecutive_failures = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    secret = serializers.CharField(
        help_text="The signing secret. Shown only in this answer: store it now (rotate to get a new one)."
    )


class DeliveryAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    succeeded = serializers.BooleanField(allow_null=True)
    http_status = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    manual = serializers.BooleanField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subscription_id = serializers.IntegerField()
    event = serializers.ChoiceField(choices=WebhookEvent.choices)
    event_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempt_count = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_http_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class DeliveryDetailSerializer(DeliverySerializer):
    body = serializers.CharField(help_text="The exact JSON body every attempt sends.")
    attempts = DeliveryAttemptSerializer(many=True, source="attempts.all")


class LabelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    colour = serializers.CharField(help_text="#rrggbb, one of a fixed palette.")


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    author = UserSummarySerializer(allow_null=True)
    text = serializers.SerializerMethodField()
    mentions = serializers.SerializerMethodField(help_text="Usernames of the members it mentions.")
    created_at = serializers.DateTimeField()

    def get_text(self, note: Any) -> str:
        return str(note.content.get("text", ""))

    def get_mentions(self, note: Any) -> list[str]:
        return [str(name) for name in note.content.get("mentions", [])]
