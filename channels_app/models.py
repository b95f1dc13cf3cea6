import uuid
import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from channels_app.crypto import EncryptedTextField
from channels_app.hub.capabilities import ChannelKind
from channels_app.hub.message_content import TemplateText


class Application(models.Model):
    """A Hub Application: one API key, several channels, one webhook URL of ours."""

    # Goes in the webhook URL the Hub posts to; random so URLs of other tenants cannot be guessed.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    hub_api_key = EncryptedTextField(
        verbose_name=_("Hub API key"), help_text=_("Write-only: never shown after it is saved.")
    )
    hub_api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    # Outcome of the last settings call to the Hub (test connection, connect webhooks, log reads): the
    # health panel shows it when "messages stopped arriving". The message never contains the key.
    hub_ok_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_hub_error = models.TextField(blank=True, editable=False)
    last_hub_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Off: every event must carry a signature one of our active secrets verifies. On (a Hub account that
    # cannot sign): an event without any signature is taken too. Changed only by do_set_accept_unsigned.
    accept_unsigned_events = models.BooleanField(
        default=False,
        editable=False,
        verbose_name=_("accept unsigned events"),
        help_text=_("Take webhook events that carry no signature. Anyone who knows the URL can post them."),
    )
    # An unassigned conversation goes to the agent who replies first (an activity line says so).
    auto_assign_on_reply = models.BooleanField(
        default=True,
        verbose_name=_("assign on first reply"),
        help_text=_("An unassigned conversation is assigned to the agent who replies first."),
    )
    # Moves in the same transaction as any change to what pages list of this Application in their menus:
    # its members and their names, its labels, its channels' templates, its canned replies. Each server
    # process keeps those lists under it (channels_app/roster.py); only the signals that bump it write it.
    roster_version = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Not a column: the settings overview sets it on the Applications its cards show.
    webhook_url: str

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("Application")
        verbose_name_plural = _("Applications")

    def __str__(self) -> str:
        return self.name

    def set_api_key(self, key: str) -> None:
        self.hub_api_key = key
        self.hub_api_key_last4 = key[-4:] if len(key) >= 8 else ""

    @property
    def masked_api_key(self) -> str:
        return f"••••{self.hub_api_key_last4}" if self.hub_api_key_last4 else "••••"


class SigningSecret(models.Model):
    """A webhook signing secret the Hub gave us. Several may be active at once so secrets can rotate."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="signing_secrets")
    secret = EncryptedTextField()
    hub_webhook_id = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["application", "active"], name="secret_app_active")]
        verbose_name = _("signing secret")
        verbose_name_plural = _("signing secrets")

    def __str__(self) -> str:
        return f"signing secret #{self.pk} of {self.application_id}"


class HubWebhook(models.Model):
    """Our copy of a webhook registered at the Hub (one per event type per Application)."""

    class EventType(models.TextChoices):
        MESSAGE = "Message"
        MESSAGE_STATUS = "MessageStatus"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="hub_webhooks")
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    hub_id = models.CharField(max_length=64)
    endpoint = models.URLField(max_length=500)
    active = models.BooleanField(default=True)
    is_verified = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    number_of_errors = models.PositiveIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "event_type"], name="one_hub_webhook_per_event_type"
            )
        ]
        verbose_name = _("Hub webhook")
        verbose_name_plural = _("Hub webhooks")

    def __str__(self) -> str:
        return f"{self.event_type} webhook {self.hub_id}"


class HubDeliveryRetry(models.Model):
    """A failed Hub delivery (a webhook log) we asked the Hub to send again: one row per log per webhook.

    The Hub keeps the failed log as `Failed` after a retry (the outcome is a new log, docs/hub.md, Delivery logs and retries), so
    without this record every recovery run would re-send every failure ever logged, and the recovery
    would re-send what an admin had already retried by hand. Both ways of asking (the delivery logs page
    and `recover_webhooks` or its Settings button) claim the row first and skip a log whose row exists:
    the unique constraint makes "ask once" hold even when both run at the same moment.
    """

    class Source(models.TextChoices):
        LOGS = "logs", _("Retried from the delivery logs")
        RECOVERY = "recovery", _("Recovery of failed deliveries")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="delivery_retries")
    hub_webhook_id = models.CharField(max_length=64)
    hub_log_id = models.CharField(max_length=64)
    new_log_id = models.CharField(max_length=64, blank=True)
    # None while the Hub is being asked; False when it refused (nothing was re-sent: it may be asked again).
    accepted = models.BooleanField(
        null=True, help_text=_("Whether the Hub accepted the retry (success: true); empty while asking.")
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RECOVERY)
    # Who pressed the button; empty for `manage.py recover_webhooks`.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "hub_webhook_id", "hub_log_id"],
                name="one_retry_per_hub_log_per_webhook",
            )
        ]
        verbose_name = _("Hub delivery retry")
        verbose_name_plural = _("Hub delivery retries")

    def __str__(self) -> str:
        return f"retry of Hub log {self.hub_log_id}"


class Channel(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="channels")
    hub_channel_id = models.UUIDField(unique=True, verbose_name=_("Hub channel UUID"))
    kind = models.CharField(max_length=16, choices=[(k.value, k.label) for k in ChannelKind])
    display_name = models.CharField(max_length=80)
    # Deactivated channels keep their history; they only stop accepting replies.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application_id", "kind", "display_name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_kind_display()})"


class Membership(models.Model):
    """Which user may see which Application, and whether they administer it."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        AGENT = "agent", _("Agent")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "application"], name="one_membership_per_user_application"
            )
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} → {self.application} ({self.role})"


class AuditEntry(models.Model):
    """Who changed which Application, Channel, webhook or membership, when, from what to what.

    `changes` maps a field to {"from": ..., "to": ...}. Secrets never get here: an API key is recorded
    as "••••<last4>" and a signing secret as "changed" (see channels_app/audit.py).
    """

    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A copy, so the entry still names who did it after the account is renamed or deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["application", "-id"], name="audit_by_application")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_repr} by {self.actor_name}"


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA zones this machine knows (zoneinfo, with the tzdata package where the OS has none)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in time_zone_names():
        raise ValidationError(
            _("“%(zone)s” is not a time zone we know: choose one from the list, e.g. America/Sao_Paulo."),
            params={"zone": value},
            code="invalid_time_zone",
        )


class ServiceLevel(models.Model):
    """An Application's first-response target: N minutes, counted always or only during business hours.

    `business_hours` lists `[weekday, "HH:MM", "HH:MM"]` (0 = Monday) in `time_zone`; empty means the
    clock always runs. Each conversation's due time is computed when the customer writes
    (channels_app/service_levels.py) and stored with it, so a later change of target applies to new
    questions only. Written only by channels_app/actions/applications.py.
    """

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="service_level", verbose_name=_("Application")
    )
    first_response_minutes = models.PositiveIntegerField(verbose_name=_("first response within (minutes)"))
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], verbose_name=_("time zone")
    )
    business_hours = models.JSONField(default=list, blank=True, verbose_name=_("business hours"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")

    def __str__(self) -> str:
        return f"service level of {self.application_id}"


class UserPreferences(models.Model):
    """A user's language and time zone, activated on every request (channels_app/preferences.py).

    No row, or an empty field, means "not chosen": the browser's language, and TIME_ZONE until the
    browser tells us its zone at the next sign-in. Written only by channels_app/actions/preferences.py.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences", verbose_name=_("user")
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        verbose_name=_("language"),
        help_text=_("Empty: the browser's language."),
    )
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone], verbose_name=_("time zone")
    )
    # Notifications in the inbox (static/js/triage.js): a desktop notification and/or a sound, for a new
    # conversation, for a customer's message in a conversation assigned to this user, and for a colleague's
    # note that mentions this user.
    desktop_new_conversation = models.BooleanField(default=True, verbose_name=_("desktop: new conversation"))
    desktop_assigned_message = models.BooleanField(
        default=True, verbose_name=_("desktop: message in a conversation assigned to me")
    )
    desktop_mention = models.BooleanField(default=True, verbose_name=_("desktop: a note that mentions me"))
    sound_new_conversation = models.BooleanField(default=False, verbose_name=_("sound: new conversation"))
    sound_assigned_message = models.BooleanField(
        default=False, verbose_name=_("sound: message in a conversation assigned to me")
    )
    sound_mention = models.BooleanField(default=False, verbose_name=_("sound: a note that mentions me"))
    updated_at = models.DateTimeField(auto_now=True)

    NOTIFICATION_FIELDS = (
        "desktop_new_conversation",
        "desktop_assigned_message",
        "desktop_mention",
        "sound_new_conversation",
        "sound_assigned_message",
        "sound_mention",
    )

    class Meta:
        verbose_name = _("user preferences")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"preferences of user {self.user_id}"


class WhatsAppTemplate(models.Model):
    """An approved WhatsApp template an admin registered for a channel (the Hub cannot list them, §3.5).

    Its text is what the composer's picker previews and what a sent template's bubble shows, rendered
    with the agent's variables (channels_app.hub.message_content.templates).
    """

    class Category(models.TextChoices):
        UTILITY = "UTILITY", _("Utility")
        MARKETING = "MARKETING", _("Marketing")
        AUTHENTICATION = "AUTHENTICATION", _("Authentication")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="templates")
    hub_template_id = models.CharField(max_length=36, verbose_name=_("Hub template id"))
    name = models.CharField(max_length=120, verbose_name=_("Name"))
    language = models.CharField(max_length=12, verbose_name=_("Language"))
    category = models.CharField(max_length=16, choices=Category.choices, verbose_name=_("Category"))
    header = models.CharField(max_length=60, blank=True, verbose_name=_("Header"))
    body = models.TextField(max_length=1024, verbose_name=_("Body"))
    footer = models.CharField(max_length=60, blank=True, verbose_name=_("Footer"))
    buttons = models.JSONField(default=list, blank=True, verbose_name=_("Buttons"))  # their labels
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language", "name"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "hub_template_id"], name="one_template_per_hub_id"),
            models.UniqueConstraint(fields=["channel", "name", "language"], name="one_template_per_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def text(self) -> TemplateText:
        return TemplateText(
            header=self.header,
            body=self.body,
            footer=self.footer,
            buttons=tuple(map(str, self.buttons or ())),
        )
