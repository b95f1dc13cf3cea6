"""Writes for Applications, Channels and the Hub's webhooks."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from channels_app.hub import HubClient, HubError, WebhookInfo
from channels_app.models import Application, HubWebhook, SigningSecret

log = logging.getLogger(__name__)

# Secrets kept active per Hub webhook: the newest and the one before it, so deliveries signed just
# before a rotation still verify while the Hub switches over.
ACTIVE_SECRETS_PER_WEBHOOK = 2


def webhook_url(application: Application) -> str:
    """The URL the Hub posts this Application's events to."""
    return settings.PUBLIC_BASE_URL + reverse("hub_webhook", args=[application.public_id])


def do_store_signing_secret(*, application: Application, hub_webhook_id: str, secret: str) -> SigningSecret:
    with transaction.atomic():
        stored = SigningSecret.objects.create(
            application=application, hub_webhook_id=hub_webhook_id, secret=secret
        )
        keep = list(
            SigningSecret.objects.filter(application=application, hub_webhook_id=hub_webhook_id, active=True)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[:ACTIVE_SECRETS_PER_WEBHOOK]
        )
        SigningSecret.objects.filter(
            application=application, hub_webhook_id=hub_webhook_id, active=True
        ).exclude(id__in=keep).update(active=False)
    return stored


def _record_webhook(application: Application, info: WebhookInfo) -> HubWebhook:
    hook, _ = HubWebhook.objects.update_or_create(
        application=application,
        event_type=info.event_type,
        defaults={
            "hub_id": info.id,
            "endpoint": info.endpoint,
            "active": info.active,
            "is_verified": info.is_verified,
            "verified_at": info.verified_at,
            "number_of_errors": info.number_of_errors,
            "synced_at": timezone.now(),
        },
    )
    return hook


def do_connect_webhooks(*, application: Application) -> list[HubWebhook]:
    """Create or update the Hub's `Message` and `MessageStatus` webhooks, signatures required.

    Idempotent: a webhook we already registered is updated to point at our URL, one deleted at the Hub
    is created again. The signing secret the Hub returns is stored (encrypted) before anything else so
    that the first signed delivery already verifies.
    """
    client = HubClient.for_application(application)
    endpoint = webhook_url(application)
    known = {hook.event_type: hook for hook in application.hub_webhooks.all()}
    result: list[HubWebhook] = []
    for event_type in (HubWebhook.EventType.MESSAGE, HubWebhook.EventType.MESSAGE_STATUS):
        info: WebhookInfo | None = None
        hook = known.get(event_type)
        if hook is not None:
            try:
                info = client.get_webhook(hook.hub_id)
            except HubError as exc:
                if exc.status != 404:
                    raise
        if info is None:
            info = client.create_webhook(
                label=f"hubdash {event_type} ({application.name})"[:100],
                endpoint=endpoint,
                event_type=event_type,
                requires_signature=True,
            )
        elif info.endpoint != endpoint or not info.requires_signature:
            info = client.update_webhook(info.id, endpoint=endpoint, requiresSignature=True)
        secret = info.signing_secret
        has_secret = SigningSecret.objects.filter(
            application=application, hub_webhook_id=info.id, active=True
        ).exists()
        if not secret and not has_secret:
            secret = client.redefine_signature(info.id)
        if secret:
            do_store_signing_secret(application=application, hub_webhook_id=info.id, secret=secret)
        if not info.is_verified:
            # Verification runs at the Hub when the endpoint is set; read back the outcome.
            info = client.get_webhook(info.id)
        result.append(_record_webhook(application, info))
        log.info(
            "hub webhook %s for %s: %s verified=%s", event_type, application.pk, info.id, info.is_verified
        )
    return result
