from django.contrib import admin

from channels_app.models import Application, Channel, HubWebhook, Membership, SigningSecret


class ChannelInline(admin.TabularInline):
    model = Channel
    extra = 0


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["name", "masked_api_key", "public_id", "created_at"]
    search_fields = ["name"]
    # The key is write-only: the admin form never renders it (see exclude) and shows only the last 4.
    exclude = ["hub_api_key"]
    # The switch is changed from Settings → Webhooks only, so that every change is audited.
    readonly_fields = ["public_id", "masked_api_key", "accept_unsigned_events"]
    inlines = [ChannelInline]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["display_name", "kind", "application", "hub_channel_id", "active"]
    list_filter = ["kind", "active", "application"]
    search_fields = ["display_name", "hub_channel_id"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "application", "role"]
    list_filter = ["role", "application"]


@admin.register(HubWebhook)
class HubWebhookAdmin(admin.ModelAdmin):
    list_display = ["application", "event_type", "hub_id", "is_verified", "number_of_errors", "synced_at"]


@admin.register(SigningSecret)
class SigningSecretAdmin(admin.ModelAdmin):
    list_display = ["application", "hub_webhook_id", "active", "created_at"]
    exclude = ["secret"]
