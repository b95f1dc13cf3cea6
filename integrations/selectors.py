"""Reads of the integrations app: tokens, contacts, received events, subscriptions and deliveries.

Conversations and messages are read through the inbox's and the thread's selectors
(conversations/selectors/): the API filters and pages them exactly as the inbox does. Every read here
starts from what the user may see (channels_app/access.py): another tenant's object is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from channels_app.access import AuthUser, User, visible_application_ids
from channels_app.hooks import HealthAlert
from channels_app.models import Application, Membership
from conversations.models import Contact, Conversation
from conversations.models import WebhookEvent as ReceivedEvent
from integrations.models import ApiToken, WebhookDelivery, WebhookSubscription


def tokens_of(user: AuthUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id")


def administered_ids(user: User) -> list[int]:
    return visible_application_ids(user, role=Membership.Role.ADMIN)


def roles_of(user: AuthUser) -> dict[int, str]:
    return dict(Membership.objects.filter(user=user).values_list("application_id", "role"))


# --- conversations and contacts ------------------------------------------------------------------


def whole_conversations(ids: list[int]) -> list[Conversation]:
    """An inbox page's conversations (found, filtered and ordered by the inbox's own selector) read whole
    for the API, in the page's order: the inbox reads only what its row partial shows. One query."""
    rows = Conversation.objects.select_related(
        "channel", "contact", "assignee", "status_changed_by", "last_message"
    ).in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


# --- contacts -------------------------------------------------------------------------------------


def contact_for(user: User, contact_id: int) -> Contact:
    """A contact of an Application the user may see (with its channel and conversation); else 404."""
    try:
        return (
            Contact.objects.select_related("channel", "conversation")
            .filter(channel__application_id__in=visible_application_ids(user))
            .get(pk=contact_id)
        )
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such contact.") from None


def linked_contacts(contact: Contact) -> list[Contact]:
    """The same channel id (a phone number on WhatsApp and SMS, say) on the Application's other channels."""
    return list(
        Contact.objects.select_related("channel", "conversation")
        .filter(channel__application_id=contact.channel.application_id, external_id=contact.external_id)
        .exclude(pk=contact.pk)
        .order_by("id")[:20]
    )


# --- received webhook events (admins) -------------------------------------------------------------


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next_before: int | None


def received_events_page(
    *, user: User, application_id: int | None, outcome: str, before: int | None, limit: int
) -> Page[ReceivedEvent]:
    """The Hub's deliveries to the Applications the user administers, newest first, keyset on the id."""
    qs = ReceivedEvent.objects.filter(application_id__in=administered_ids(user)).defer("body", "headers")
    if application_id:
        qs = qs.filter(application_id=application_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])
    return Page(rows=rows[:limit], next_before=rows[limit - 1].pk if len(rows) > limit else None)


def received_event_for(user: User, event_id: int) -> ReceivedEvent:
    try:
        return ReceivedEvent.objects.filter(application_id__in=administered_ids(user)).get(pk=event_id)
    except (ReceivedEvent.DoesNotExist, ValueError, TypeError):
        raise Http404("No such event.") from None


# --- outgoing webhooks (admins) -------------------------------------------------------------------


def subscriptions_of(application: Application) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(application=application).order_by("id")


def subscription_for(user: User, subscription_id: int) -> WebhookSubscription:
    """A subscription of an Application the user administers; else 404."""
    try:
        return WebhookSubscription.objects.select_related("application").get(
            pk=subscription_id, application_id__in=administered_ids(user)
        )
    except (WebhookSubscription.DoesNotExist, ValueError, TypeError):
        raise Http404("No such webhook.") from None


def deliveries_page(
    *, subscription: WebhookSubscription, status: str, before: int | None, limit: int
) -> Page[WebhookDelivery]:
    qs = WebhookDelivery.objects.filter(subscription=subscription).defer("body")
    if status:
        qs = qs.filter(status=status)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])
    return Page(rows=rows[:limit], next_before=rows[limit - 1].pk if len(rows) > limit else None)


def delivery_for(subscription: WebhookSubscription, delivery_id: int) -> WebhookDelivery:
    try:
        return WebhookDelivery.objects.prefetch_related("attempts").get(
            pk=delivery_id, subscription=subscription
        )
    except (WebhookDelivery.DoesNotExist, ValueError, TypeError):
        raise Http404("No such delivery.") from None


def disabled_subscription_alerts(applications: list[Application]) -> list[HealthAlert]:
    """For the health panel: subscriptions a run of failures turned off."""
    rows = WebhookSubscription.objects.filter(
        application__in=applications, active=False, disabled_at__isnull=False
    ).order_by("application_id", "id")
    return [
        HealthAlert(
            application_id=row.application_id,
            message=_("Outgoing webhook to %(url)s is off: %(reason)s")
            % {"url": row.url, "reason": row.disabled_reason},
            link=reverse("settings:outgoing_webhook", args=[row.pk]),
            link_text=_("Review and turn it back on"),
        )
        for row in rows
    ]
