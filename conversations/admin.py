import contextlib
import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from conversations.actions.inbound import do_reprocess_webhook_event
from conversations.models import (
    Contact,
    Conversation,
    Message,
    MessageStatusChange,
    SendAttempt,
    WebhookEvent,
)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["external_id", "display_name", "channel", "created_at"]
    search_fields = ["external_id", "display_name"]
    list_select_related = ["channel"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "contact", "channel", "status", "assignee", "unread_count", "last_activity_at"]
    list_filter = ["status", "application", "channel__kind"]
    list_select_related = ["contact", "channel", "assignee"]
    raw_id_fields = ["contact", "last_message", "assignee"]


# Shown and read-only alike (a tuple: the stubs type `fields` and `readonly_fields` differently).
_STATUS_CHANGE_FIELDS = ("status", "occurred_at", "applied", "source", "error_code", "error_message")


class StatusChangeInline(admin.TabularInline):
    model = MessageStatusChange
    extra = 0
    fields = _STATUS_CHANGE_FIELDS
    readonly_fields = _STATUS_CHANGE_FIELDS


class SendAttemptInline(admin.TabularInline):
    model = SendAttempt
    extra = 0
    readonly_fields = [
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "http_status",
        "error_code",
        "error_message",
    ]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "direction", "channel", "status", "preview", "created_at"]
    list_filter = ["direction", "status", "channel__kind"]
    search_fields = ["hub_message_id", "preview"]
    list_select_related = ["channel"]
    raw_id_fields = ["conversation", "author"]
    inlines = [StatusChangeInline, SendAttemptInline]


_WEBHOOK_EVENT_FIELDS = (
    "application",
    "received_at",
    "event_type",
    "outcome",
    "error",
    "dedup_key",
    "processed_at",
    "reprocessed_count",
    "headers",
    "body_text",
)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Every delivery the Hub made, with its outcome; failed/invalid/ignored ones can be reprocessed."""

    list_display = [
        "id",
        "received_at",
        "application",
        "event_type",
        "outcome",
        "short_error",
        "reprocessed_count",
    ]
    list_filter = ["outcome", "event_type", "application"]
    search_fields = ["dedup_key", "error"]
    list_select_related = ["application"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    fields = _WEBHOOK_EVENT_FIELDS
    readonly_fields = _WEBHOOK_EVENT_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # deliveries come from the Hub only

    def has_change_permission(self, request: HttpRequest, obj: WebhookEvent | None = None) -> bool:
        return False  # the record of what arrived is not edited; reprocessing is an action

    @admin.display(description="error")
    def short_error(self, event: WebhookEvent) -> str:
        return event.error if len(event.error) <= 80 else event.error[:79] + "…"

    @admin.display(description="body")
    def body_text(self, event: WebhookEvent) -> str:
        raw = bytes(event.body).decode("utf-8", "replace")
        with contextlib.suppress(ValueError, RecursionError):  # not JSON: shown as received
            raw = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', raw)

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        # Rows are read-only, so reprocessing needs the model's change permission explicitly.
        return request.user.has_perm("conversations.change_webhookevent")

    @admin.action(description="Reprocess selected deliveries", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        outcomes: dict[str, int] = {}
        for event in queryset.select_related("application").order_by("received_at", "id"):
            try:
                outcome = do_reprocess_webhook_event(event=event)
            except Exception as exc:  # one bad row must not stop the others; say which and why
                self.message_user(request, f"Delivery #{event.pk}: {exc}", messages.ERROR)
                continue
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcomes:
            summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
            self.message_user(request, f"Reprocessed: {summary}.", messages.SUCCESS)
