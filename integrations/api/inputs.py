"""What the API accepts (request bodies and query strings). Every input refuses fields it does not know,
so a misspelt field is an error rather than silently ignored. Where the pages have a validation rule
(a unique Application name, a channel UUID, a Hub key's shape) the same form decides here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from channels_app.access import AuthUser
from channels_app.forms import ApiKeyField, ApplicationForm, ChannelCreateForm
from channels_app.models import Application
from conversations.forms import FIRST_DAY, LAST_DAY, MAX_ID, MAX_USER_ID
from conversations.models import Conversation
from integrations.models import WebhookEvent
from integrations.representations import KIND_CHOICES

UNKNOWN_FIELD = _("Unknown field.")
NOT_TEXT = _("Must be a string.")


class StrictSerializer(serializers.Serializer):
    """Refuses unknown (and read-only) fields instead of ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError({name: [UNKNOWN_FIELD] for name in unknown})
            # DRF's CharField takes a number and stores its text ("display_name": 2e-198): the schema says
            # string, so a number is the client's mistake, said rather than guessed at.
            not_text = sorted(
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and name in data
                and data[name] is not None
                and not isinstance(data[name], str)
            )
            if not_text:
                raise serializers.ValidationError({name: [NOT_TEXT] for name in not_text})
        return super().to_internal_value(data)


def _form_errors(form_class: type, field: str, value: Any, **kwargs: Any) -> Any:
    """Run one field of a settings form and return its cleaned value, or raise its errors."""
    form = form_class(data={field: value}, **kwargs)
    form.is_valid()
    if field in form.errors:
        raise serializers.ValidationError([str(error) for error in form.errors[field]])
    return form.cleaned_data[field]


# --- Applications and channels -------------------------------------------------------------------


class ApplicationCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=120)
    hub_api_key = serializers.CharField(
        write_only=True, max_length=500, help_text="Checked with the Hub before anything is stored."
    )

    def validate_name(self, value: str) -> str:
        user: AuthUser = self.context["user"]
        return str(_form_errors(ApplicationForm, "name", value, user=user))

    def validate_hub_api_key(self, value: str) -> str:
        try:
            return str(ApiKeyField().clean(value))
        except Exception as error:  # a forms.ValidationError: its messages, as the settings page says them
            raise serializers.ValidationError(getattr(error, "messages", [str(error)])) from None


class ApplicationUpdateInput(ApplicationCreateInput):
    name = serializers.CharField(max_length=120, required=False)
    hub_api_key = serializers.CharField(
        write_only=True,
        required=False,
        max_length=500,
        help_text="A new Hub API key; checked with the Hub before it replaces the old one.",
    )

    def validate_name(self, value: str) -> str:
        instance: Application = self.context["application"]
        return str(_form_errors(ApplicationForm, "name", value, user=self.context["user"], instance=instance))


def _display_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise serializers.ValidationError(_("This field may not be blank."))
    return value


class ChannelCreateInput(StrictSerializer):
    hub_channel_id = serializers.UUIDField(help_text="The channel's UUID as the Hub shows it.")
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    display_name = serializers.CharField(max_length=80)

    def validate_hub_channel_id(self, value: Any) -> Any:
        return _form_errors(ChannelCreateForm, "hub_channel_id", str(value))

    def validate_display_name(self, value: str) -> str:
        return _display_name(value)


class ChannelUpdateInput(StrictSerializer):
    display_name = serializers.CharField(max_length=80, required=False)
    active = serializers.BooleanField(required=False)

    def validate_display_name(self, value: str) -> str:
        return _display_name(value)


# --- Conversations, contacts, messages -----------------------------------------------------------


class ConversationFilterInput(StrictSerializer):
    """The inbox's filters (conversations/selectors/inbox.py `InboxFilters`), strictly typed."""

    application = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    kind = serializers.ChoiceField(choices=KIND_CHOICES, required=False)
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    assigned = serializers.ChoiceField(choices=["all", "mine", "unassigned"], required=False, default="all")
    unread = serializers.BooleanField(required=False, default=False)
    q = serializers.CharField(required=False, max_length=100, help_text="Name, number or message text.")
    cursor = serializers.CharField(required=False, max_length=200, help_text="`next` of the previous page.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=30)


class ContactFilterInput(ConversationFilterInput):
    pass


class MessagePageInput(StrictSerializer):
    before = serializers.CharField(
        required=False, max_length=200, help_text="`older` of a page: the messages before it."
    )
    after = serializers.CharField(
        required=False, max_length=200, help_text="`newer` of a page: the messages after it."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=40)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("before") and attrs.get("after"):
            raise serializers.ValidationError(_("Give either `before` or `after`, not both."))
        return attrs


class ReplyInput(StrictSerializer):
    """Exactly one of: `text`; `media_url` (+ `media_type`, `caption`, `filename`); `template_id`
    (+ `template_params`, WhatsApp)."""

    text = serializers.CharField(required=False, allow_blank=True, max_length=10_000, trim_whitespace=False)
    media_url = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    media_type = serializers.ChoiceField(
        choices=["image", "video", "audio", "document", "sticker"], required=False, allow_blank=True
    )
    caption = serializers.CharField(required=False, allow_blank=True, max_length=1024)
    filename = serializers.CharField(required=False, allow_blank=True, max_length=255)
    template_id = serializers.CharField(required=False, allow_blank=True, max_length=200)
    template_params = serializers.ListField(
        child=serializers.CharField(max_length=1024, allow_blank=True), required=False, max_length=20
    )
    reply_to = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text="The Hub id of a message to quote."
    )


class StatusInput(StrictSerializer):
    # Snoozing needs a time: the inbox's snooze form, not a bare status.
    status = serializers.ChoiceField(
        choices=[c for c in Conversation.Status.choices if c[0] != Conversation.Status.SNOOZED]
    )


class AssignInput(StrictSerializer):
    assignee_id = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        max_value=MAX_USER_ID,
        help_text="A member's user id; null unassigns.",
    )


class ContactUpdateInput(StrictSerializer):
    display_name = serializers.CharField(allow_blank=True, max_length=120, trim_whitespace=False)


class ReceivedEventFilterInput(StrictSerializer):
    application = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    outcome = serializers.ChoiceField(
        choices=["processed", "duplicate", "ignored", "invalid", "rejected", "failed"], required=False
    )
    cursor = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)


class ReviewFilterInput(StrictSerializer):
    application = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    channel = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(
        choices=["pending", "enqueued", "sent", "delivered", "read", "failed"], required=False
    )
    error_code = serializers.CharField(required=False, max_length=64)
    agent = serializers.IntegerField(required=False, min_value=1, max_value=MAX_USER_ID)
    date_from = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    date_to = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    stuck = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("date_from", "date_to"):
            day = attrs.get(name)
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                message = _("Enter a date between %(first)s and %(last)s.") % {
                    "first": FIRST_DAY.isoformat(),
                    "last": LAST_DAY.isoformat(),
                }
                raise serializers.ValidationError({name: [message]})
        return attrs


# --- Outgoing webhooks ---------------------------------------------------------------------------


class SubscriptionInput(StrictSerializer):
    url = serializers.CharField(max_length=500, help_text="http(s); private addresses are refused.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=10
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class SubscriptionUpdateInput(StrictSerializer):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        min_length=1,
        max_length=10,
        required=False,
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    active = serializers.BooleanField(
        required=False,
        help_text="true turns a disabled subscription back on (its failures are forgotten).",
    )


class DeliveryFilterInput(StrictSerializer):
    status = serializers.ChoiceField(choices=["pending", "delivered", "failed"], required=False)
    cursor = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)
