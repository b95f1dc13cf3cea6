"""API tokens, outgoing webhook subscriptions and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_app.crypto import EncryptedTextField
from channels_app.models import Application


class ApiToken(models.Model):
    """A personal API token: it acts as its user, with exactly that user's access.

    Only a SHA-256 digest of the token is stored (the token is 256 random bits, so no salt or slow hash
    is needed: nobody can guess one); the token itself is shown once, when it is created.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    # The first characters of the token, shown in lists so its owner can tell tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # Written at most once a minute per token (integrations/api/authentication.py), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class WebhookEvent(models.TextChoices):
    """What an outgoing webhook subscription can receive."""

    MESSAGE_CREATED = "message.created", _("A message was received or a reply was stored")
    MESSAGE_STATUS_CHANGED = "message.status_changed", _("A reply's delivery status changed")
    CONVERSATION_CREATED = "conversation.created", _("A new conversation started")
    CONVERSATION_UPDATED = "conversation.updated", _("A conversation was assigned, resolved, renamed…")
    CONVERSATION_RESOLVED = "conversation.resolved", _("A conversation was resolved")
    NOTE_CREATED = "note.created", _("An agent wrote a note for the team")


class WebhookSubscription(models.Model):
    """An Application admin's outgoing webhook: where to POST which events, and the secret that signs them."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="subscriptions")
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # HMAC-SHA256 key of the signature header; encrypted at rest, shown once (creation, rotation).
    secret = EncryptedTextField()
    active = models.BooleanField(default=True)
    # Set when the run of failures turned it off (not when an admin did): the health panel says so.
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application_id", "id"]
        indexes = [models.Index(fields=["application", "active"], name="subscription_app_active")]

    def __str__(self) -> str:
        return f"webhook #{self.pk} → {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription. The table is the queue: pending and due → the worker sends it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    # What makes one event one delivery (e.g. "message.created:42"): a repeated realtime event, or two
    # processes hearing of the same change, find the row that exists.
    event_key = models.CharField(max_length=200)
    # Sent as the `id` of the body and in `Hubdash-Delivery`: receivers deduplicate on it (a resend and
    # an at-least-once retry carry the same id).
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    # The exact JSON body, built when the event happened, so every attempt sends the same bytes.
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # An admin asked to send it again: the next attempt is marked manual and starts a fresh budget.
    resend_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_key"], name="one_delivery_per_event")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="outgoing_webhook_due",
            ),
            models.Index(fields=["subscription", "-id"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} ({self.status})"


class WebhookDeliveryAttempt(models.Model):
    """One POST of a delivery: the delivery log shows every one."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(null=True)  # None while in flight
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    manual = models.BooleanField(default=False, help_text=_("Started by an admin's resend."))

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_number_per_delivery_attempt")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery #{self.delivery_id}"
