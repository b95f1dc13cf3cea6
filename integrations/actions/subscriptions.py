"""Outgoing webhook subscriptions: an Application's admins add, change, rotate and remove them.

Every change is written to the audit log in its transaction (the secret only as "changed"), and
forgets this process's list of subscribed Applications so the next event is checked afresh.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.models import Application
from integrations.actions.deliveries import forget_subscribed_applications
from integrations.models import WebhookEvent, WebhookSubscription
from integrations.urlguard import UnsafeUrl, check_url

SECRET_PREFIX = "whsec_"
MAX_SUBSCRIPTIONS_PER_APPLICATION = 20
_AUDITED = ["url", "events", "description", "active"]


class SubscriptionError(ValueError):
    """A subscription change that cannot be made; `field` names the input it is about (if one)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SubscriptionWithSecret:
    subscription: WebhookSubscription
    secret: str  # shown once


def _clean_events(events: list[str]) -> list[str]:
    valid = set(WebhookEvent.values)
    unknown = [event for event in events if event not in valid]
    if unknown or not events:
        raise SubscriptionError(_("Choose at least one event from the list."), field="events")
    return sorted(set(events))


def _clean_url(url: str) -> str:
    try:
        return check_url(url)
    except UnsafeUrl as refused:
        raise SubscriptionError(str(refused), field="url") from None


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def do_create_subscription(
    *, actor: AuthUser, application: Application, url: str, events: list[str], description: str = ""
) -> SubscriptionWithSecret:
    url = _clean_url(url)
    events = _clean_events(events)
    secret = new_secret()
    with transaction.atomic():
        Application.objects.select_for_update().filter(pk=application.pk).first()  # one count at a time
        if (
            WebhookSubscription.objects.filter(application=application).count()
            >= MAX_SUBSCRIPTIONS_PER_APPLICATION
        ):
            raise SubscriptionError(_("This Application has as many webhooks as it may: remove one first."))
        subscription = WebhookSubscription.objects.create(
            application=application,
            url=url,
            events=events,
            description=description.strip()[:200],
            secret=secret,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="outgoing_webhook.created",
            application=application,
            target=subscription,
            changes=audit.diff({}, {**audit.snapshot(subscription, _AUDITED), "secret": audit.CHANGED}),
        )
        transaction.on_commit(forget_subscribed_applications)
    return SubscriptionWithSecret(subscription=subscription, secret=secret)


def do_update_subscription(
    *,
    actor: AuthUser,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given. Turning a subscription on again forgets its run of failures, and its
    waiting deliveries go out at once."""
    values: dict[str, object] = {}
    if url is not None:
        values["url"] = _clean_url(url)
    if events is not None:
        values["events"] = _clean_events(events)
    if description is not None:
        values["description"] = description.strip()[:200]
    if active is not None:
        values["active"] = active
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        changes = audit.diff(audit.snapshot(locked, list(values)), values)
        fields = list(values)
        for name, value in values.items():
            setattr(locked, name, value)
        if active:
            locked.consecutive_failures = 0
            locked.disabled_at = None
            locked.disabled_reason = ""
            fields += ["consecutive_failures", "disabled_at", "disabled_reason"]
        if not fields:
            return locked
        locked.save(update_fields=[*fields, "updated_at"])
        if changes:
            audit.record(
                actor=actor,
                action="outgoing_webhook.updated",
                application=locked.application,
                target=locked,
                changes=changes,
            )
        transaction.on_commit(forget_subscribed_applications)
    return locked


def do_rotate_secret(*, actor: AuthUser, subscription: WebhookSubscription) -> SubscriptionWithSecret:
    """A new signing secret, at once: the old one signs nothing more (receivers switch when told)."""
    secret = new_secret()
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        locked.secret = secret
        locked.save(update_fields=["secret", "updated_at"])
        audit.record(
            actor=actor,
            action="outgoing_webhook.secret_rotated",
            application=locked.application,
            target=locked,
            changes={"secret": {"from": audit.CHANGED, "to": audit.CHANGED}},
        )
    return SubscriptionWithSecret(subscription=locked, secret=secret)


def do_delete_subscription(*, actor: AuthUser, subscription: WebhookSubscription) -> None:
    """Remove it with its delivery log; nothing more is sent to its URL."""
    with transaction.atomic():
        audit.delete_recorded(
            actor=actor,
            action="outgoing_webhook.deleted",
            obj=subscription,
            fields=_AUDITED,
            application=subscription.application,
        )
        transaction.on_commit(forget_subscribed_applications)
