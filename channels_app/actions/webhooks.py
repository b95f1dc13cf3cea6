"""The Hub's webhooks for an Application: signing secrets, connecting (register or update, verify) and
reading their state back."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from channels_app import audit
from channels_app.actions.common import hub_call
from channels_app.audit import Actor
from channels_app.hub import HubClient, HubError, WebhookInfo
from channels_app.models import (
    Application,
    HubWebhook,
    SigningSecret,
)

log = logging.getLogger(__name__)


# Secrets kept active per Hub webhook: the newest and the one before it, so deliveries signed just
# before a rotation still verify while the Hub switches over.
ACTIVE_SECRETS_PER_WEBHOOK = 2


def webhook_url(application: Application) -> str:
    """The URL the Hub posts this Application's events to."""
    return str(settings.PUBLIC_BASE_URL) + reverse("hub_webhook", args=[application.public_id])


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


def do_connect_webhooks(*, application: Application, actor: Actor = None) -> list[HubWebhook]:
    """Create or update the Hub's `Message` and `MessageStatus` webhooks, signatures required.

    Idempotent: a webhook we already registered is updated to point at our URL, one deleted at the Hub
    is created again. The signing secret the Hub returns is stored (encrypted) before anything else so
    that the first signed delivery already verifies. The outcome is audited (`actor`: who pressed
    "connect webhooks"; None for commands) and a Hub failure is kept for the health panel.
    """
    before = {hook.event_type: _webhook_audit_state(hook) for hook in application.hub_webhooks.all()}
    last_secret_id = (
        SigningSecret.objects.filter(application=application)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )
    with hub_call(application):
        result = _connect_webhooks(application)
    rotated = set(
        SigningSecret.objects.filter(application=application, id__gt=last_secret_id).values_list(
            "hub_webhook_id", flat=True
        )
    )
    changes: dict[str, Any] = {}
    for hook in result:
        after = _webhook_audit_state(hook)
        if hook.hub_id in rotated:
            after["signing secret"] = audit.CHANGED  # the value itself is never recorded
        old = before.get(hook.event_type, {})
        changes.update(
            {f"{hook.event_type} {name}": change for name, change in audit.diff(old, after).items()}
        )
    # The Hub calls cannot be rolled back, so they run outside any transaction; the entry records what
    # the Hub now has, written with nothing else pending.
    with transaction.atomic():
        audit.record_for_webhooks(
            actor=actor, action="webhooks.connected", application=application, changes=changes
        )
    return result


def _webhook_audit_state(hook: HubWebhook) -> dict[str, Any]:
    return audit.snapshot(hook, ["hub_id", "endpoint", "is_verified"])


def _connect_webhooks(application: Application) -> list[HubWebhook]:
    client = HubClient.for_application(application)
    endpoint = webhook_url(application)
    known = {hook.event_type: hook for hook in application.hub_webhooks.all()}
    at_hub: list[WebhookInfo] | None = None
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
        else:
            # Our rows may be gone (a restored database) while the Hub still has the webhook: adopt it
            # rather than create a second one that would deliver every event twice.
            if at_hub is None:
                at_hub = client.list_webhooks(limit=50).items
            info = next((w for w in at_hub if w.event_type == event_type and w.endpoint == endpoint), None)
        if info is None:
            info = client.create_webhook(
                label=f"hubdash {event_type} ({application.name})"[:100],
                endpoint=endpoint,
                event_type=event_type,
                requires_signature=True,
            )
        else:
            fields: dict[str, Any] = {}
            # Setting the endpoint, even unchanged, re-runs the Hub's verification (docs/hub.md, Webhooks and signatures): the
            # only documented way to retry a handshake that failed while we were unreachable.
            if info.endpoint != endpoint or not info.is_verified:
                fields["endpoint"] = endpoint
            # Turning signing on issues a new secret, so ask only when it is off.
            if not info.requires_signature:
                fields["requiresSignature"] = True
            if fields:
                info = client.update_webhook(info.id, **fields)
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


def do_refresh_webhooks(*, application: Application) -> list[HubWebhook]:
    """Read our webhooks back from the Hub (isVerified, verifiedAt, numberOfErrors). Raises HubError."""
    client = HubClient.for_application(application)
    refreshed: list[HubWebhook] = []
    with hub_call(application):
        for hook in application.hub_webhooks.all():
            try:
                info = client.get_webhook(hook.hub_id)
            except HubError as exc:
                if exc.status != 404:
                    raise
                # Deleted at the Hub: say so until "connect webhooks" creates it again.
                HubWebhook.objects.filter(pk=hook.pk).update(
                    active=False, is_verified=False, synced_at=timezone.now()
                )
                continue
            refreshed.append(_record_webhook(application, info))
    return refreshed
