from django.contrib import admin

from conversations.models import (
    Contact,
    Conversation,
    Message,
    MessageStatusChange,
    SendAttempt,
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


class StatusChangeInline(admin.TabularInline):
    model = MessageStatusChange
    extra = 0
    fields = ["status", "occurred_at", "applied", "source", "error_code", "error_message"]
    readonly_fields = fields


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
