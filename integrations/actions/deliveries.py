"""Outgoing webhook deliveries: queued when an inbox event commits, sent by the worker, retried with
backoff, resent by an admin, and a subscription turned off after a run of failures.

The deliveries table is the queue, as the replies table is for sending (conversations/actions/replies.py):
1. `queue_deliveries` hears every committed inbox event (channels_app/hooks.py) and stores one
   delivery per subscription that wants it, with the exact body, due now. It runs after the write's
   commit and swallows its own errors: a delivery never blocks or fails the write that caused it.
   Each delivery has an `event_key` unique per subscription, so an event heard twice is stored once.
2. `do_deliver_next_due` (a worker thread) takes the delivery due first with SKIP LOCKED, gives it a
   lease and an attempt, commits, and POSTs outside any transaction; then stores the outcome.
3. `do_recover_expired_deliveries` makes due again what a dead worker held.

Delivery is at least once: a receiver that accepted a POST whose answer we lost gets it again, with the
same `id`, so receivers deduplicate on it. Order is not guaranteed across retries: bodies carry times.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Max, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations.models import Conversation, Message, MessageStatusChange
from integrations.models import (
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
    WebhookSubscription,
)
from integrations.representations import ConversationSerializer, MessageSerializer, NoteSerializer
from integrations.transport import PostResult, post_event

log = logging.getLogger(__name__)

PENDING = WebhookDelivery.Status.PENDING


# --- what an inbox event becomes ----------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingEvent:
    name: str  # a WebhookEvent value
    key: str  # unique per subscription: the same change heard twice is one delivery
    data: dict[str, Any]


def _micros(value: datetime | None) -> str:
    return str(int(value.timestamp() * 1_000_000)) if value else "-"


def _conversation_data(conversation_id: int) -> tuple[Conversation, dict[str, Any]] | None:
    conversation = (
        Conversation.objects.select_related(
            "channel", "contact", "assignee", "status_changed_by", "last_message"
        )
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return None
    return conversation, dict(ConversationSerializer(conversation).data)


def _message_data(message_id: int) -> dict[str, Any] | None:
    message = (
        Message.objects.select_related("author")
        .prefetch_related(
            Prefetch("status_changes", queryset=MessageStatusChange.objects.order_by("received_at", "id")),
            "attempts",
        )
        .filter(pk=message_id)
        .first()
    )
    return dict(MessageSerializer(message).data) if message is not None else None


def outgoing_events(event: dict[str, Any]) -> list[OutgoingEvent]:
    """The outgoing events an inbox event (conversations/events.py) stands for, read after its commit."""
    kind = event.get("type")
    conversation_id = int(event["conversation_id"])
    found = _conversation_data(conversation_id)
    if found is None:
        return []
    conversation, conversation_data = found
    if kind == "message.created":
        message_id = int(event["message_id"])
        message = _message_data(message_id)
        if message is None:
            return []
        out = []
        # The first message of a thread is what creates it (ingest and sending both start there).
        if not Message.objects.filter(conversation_id=conversation_id, id__lt=message_id).exists():
            out.append(
                OutgoingEvent(
                    WebhookEvent.CONVERSATION_CREATED,
                    f"conversation.created:{conversation_id}",
                    {"conversation": conversation_data},
                )
            )
        out.append(
            OutgoingEvent(
                WebhookEvent.MESSAGE_CREATED,
                f"message.created:{message_id}",
                {"message": message, "conversation": conversation_data},
            )
        )
        return out
    if kind == "message.status":
        message_id = int(event["message_id"])
        status = str(event.get("status", ""))
        message = _message_data(message_id)
        if message is None:
            return []
        # One delivery per applied status report: a retry's second `failed` is a new event, a realtime
        # event heard twice is not.
        change_id = (
            MessageStatusChange.objects.filter(message_id=message_id, status=status, applied=True)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        return [
            OutgoingEvent(
                WebhookEvent.MESSAGE_STATUS_CHANGED,
                f"message.status_changed:{message_id}:{status}:{change_id or '-'}",
                {"status": status, "message": message},
            )
        ]
    if kind == "thread.item":
        # A note (an activity line is told by the conversation.updated of its change).
        note = (
            Message.objects.select_related("author")
            .filter(pk=int(event["message_id"]), direction=Message.Direction.NOTE)
            .first()
        )
        if note is None:
            return []
        return [
            OutgoingEvent(
                WebhookEvent.NOTE_CREATED,
                f"note.created:{note.pk}",
                {"note": dict(NoteSerializer(note).data), "conversation": conversation_data},
            )
        ]
    if kind == "conversation.updated":
        # Every conversation.updated is one change (actions publish only when something changed).
        out = [
            OutgoingEvent(
                WebhookEvent.CONVERSATION_UPDATED,
                f"conversation.updated:{conversation_id}:{uuid.uuid4().hex}",
                {"conversation": conversation_data},
            )
        ]
        if conversation.status == Conversation.Status.RESOLVED:
            # Keyed by when it was resolved: an assignment after resolving is not a second resolution.
            out.append(
                OutgoingEvent(
                    WebhookEvent.CONVERSATION_RESOLVED,
                    f"conversation.resolved:{conversation_id}:{_micros(conversation.status_changed_at)}",
                    {"conversation": conversation_data},
                )
            )
        return out
    return []


# --- queueing -------------------------------------------------------------------------------------

_subscribed_cache: tuple[float, frozenset[int]] | None = None


def forget_subscribed_applications() -> None:
    """Called by every subscription change in this process; other processes notice within the TTL."""
    global _subscribed_cache
    _subscribed_cache = None


def _has_subscriptions(application_id: int) -> bool:
    """Whether the Application has an active subscription, from a per-process list kept for
    OUTGOING_WEBHOOK_CACHE_SECONDS: every inbox event asks, and most Applications have none."""
    global _subscribed_cache
    ttl = float(settings.OUTGOING_WEBHOOK_CACHE_SECONDS)
    now = time.monotonic()
    if ttl <= 0 or _subscribed_cache is None or now - _subscribed_cache[0] > ttl:
        ids = frozenset(
            WebhookSubscription.objects.filter(active=True)
            .values_list("application_id", flat=True)
            .distinct()
        )
        _subscribed_cache = (now, ids)
    return application_id in _subscribed_cache[1]


def body_for(*, name: str, event_id: uuid.UUID, application_id: int, data: dict[str, Any]) -> str:
    envelope = {
        "id": str(event_id),
        "type": name,
        "created_at": timezone.now().astimezone(UTC).isoformat(),
        "application_id": application_id,
        "data": data,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def queue_deliveries(event: dict[str, Any]) -> int:
    """Store the deliveries an inbox event calls for (after its commit). Returns how many it offered
    (those already stored for the same change are skipped)."""
    application_id = int(event.get("application_id") or 0)
    if not application_id or not _has_subscriptions(application_id):
        return 0
    subscriptions = list(WebhookSubscription.objects.filter(application_id=application_id, active=True))
    if not subscriptions:
        return 0
    # Bodies show times in UTC whatever the acting user's time zone.
    with timezone.override(UTC):
        events = outgoing_events(event)
    now = timezone.now()
    rows = []
    for subscription in subscriptions:
        for outgoing in events:
            if outgoing.name not in subscription.events:
                continue
            event_id = uuid.uuid4()
            rows.append(
                WebhookDelivery(
                    subscription=subscription,
                    event=outgoing.name,
                    event_key=outgoing.key,
                    event_id=event_id,
                    body=body_for(
                        name=outgoing.name,
                        event_id=event_id,
                        application_id=application_id,
                        data=outgoing.data,
                    ),
                    next_attempt_at=now,
                )
            )
    if not rows:
        return 0
    # ignore_conflicts: an event_key already stored (the same change heard twice) is skipped.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def on_event_committed(sender: Any, event: dict[str, Any], **kwargs: Any) -> None:
    """The receiver of channels_app.hooks.event_committed: never raises into the write's commit."""
    try:
        queue_deliveries(event)
    except Exception:
        log.exception("could not queue outgoing webhooks for %s", event.get("type"))


# --- sending --------------------------------------------------------------------------------------


def backoff_seconds(attempt: int) -> float:
    """Exponential from OUTGOING_WEBHOOK_BACKOFF_BASE, capped, half fixed and half random (so deliveries
    that failed together during an outage do not all come back in the same second)."""
    ceiling = min(
        float(settings.OUTGOING_WEBHOOK_BACKOFF_MAX),
        float(settings.OUTGOING_WEBHOOK_BACKOFF_BASE) * 2.0 ** max(attempt - 1, 0),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def lease_seconds() -> float:
    return float(settings.OUTGOING_WEBHOOK_TIMEOUT) + 30.0


@dataclass(frozen=True)
class _Lease:
    delivery_id: int
    attempt_id: int
    number: int
    url: str
    secret: str
    body: str
    event: str
    event_id: str


def _due(now: datetime) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        status=PENDING, locked_until__isnull=True, next_attempt_at__lte=now, subscription__active=True
    )


def _lease_next_due() -> _Lease | None:
    now = timezone.now()
    # An idle worker polls with a plain read, not a locking transaction (SQLite's IMMEDIATE ones take the
    # database's write lock).
    if not _due(now).exists():
        return None
    with transaction.atomic():
        delivery = (
            _due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .order_by("next_attempt_at", "id")
            .first()
        )
        if delivery is None:
            return None
        delivery.attempt_count += 1
        delivery.locked_until = now + timedelta(seconds=lease_seconds())
        manual = delivery.resend_requested
        delivery.resend_requested = False
        delivery.save(update_fields=["attempt_count", "locked_until", "resend_requested"])
        attempt = WebhookDeliveryAttempt.objects.create(
            delivery=delivery, number=delivery.attempt_count, started_at=now, manual=manual
        )
        return _Lease(
            delivery_id=delivery.pk,
            attempt_id=attempt.pk,
            number=attempt.number,
            url=delivery.subscription.url,
            secret=delivery.subscription.secret,
            body=delivery.body,
            event=delivery.event,
            event_id=str(delivery.event_id),
        )


def _round_attempts(delivery: WebhookDelivery, number: int) -> int:
    """Attempts since the last resend (a resend gives a fresh budget)."""
    last_manual = WebhookDeliveryAttempt.objects.filter(
        delivery=delivery, manual=True, number__lte=number
    ).aggregate(n=Max("number"))["n"]
    return number - last_manual + 1 if last_manual else number


def _note_subscription(subscription_id: int, *, ok: bool, error: str, now: datetime) -> None:
    """A success ends the run of failures; the failure that makes it OUTGOING_WEBHOOK_DISABLE_AFTER
    long turns the subscription off (the health panel shows it; an admin turns it back on)."""
    if ok:
        WebhookSubscription.objects.filter(pk=subscription_id, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
        return
    subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id).first()
    if subscription is None:
        return
    subscription.consecutive_failures = F("consecutive_failures") + 1
    subscription.save(update_fields=["consecutive_failures"])
    subscription.refresh_from_db(fields=["consecutive_failures"])
    limit = int(settings.OUTGOING_WEBHOOK_DISABLE_AFTER)
    if subscription.active and subscription.consecutive_failures >= limit:
        subscription.active = False
        subscription.disabled_at = now
        subscription.disabled_reason = _(
            "Turned off after %(count)s failed deliveries in a row. Last error: %(error)s"
        ) % {"count": subscription.consecutive_failures, "error": error}
        subscription.save(update_fields=["active", "disabled_at", "disabled_reason"])
        forget_subscribed_applications()
        log.warning("outgoing webhook %s turned off after %s failures", subscription.pk, limit)


def _store_outcome(lease: _Lease, result: PostResult) -> str:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .filter(pk=lease.delivery_id)
            .select_related("subscription")
            .first()
        )
        WebhookDeliveryAttempt.objects.filter(pk=lease.attempt_id).update(
            finished_at=now, succeeded=result.ok, http_status=result.http_status, error=result.error[:1000]
        )
        if delivery is None:
            return "skipped"
        # Ours unless the sweep took it over after our lease expired (then its outcome is the sweep's).
        holder = delivery.attempt_count == lease.number and delivery.status == PENDING
        if not holder:
            return "skipped"
        delivery.locked_until = None
        delivery.last_http_status = result.http_status
        delivery.last_error = result.error[:1000]
        fields = ["locked_until", "last_http_status", "last_error", "status", "next_attempt_at"]
        if result.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            fields.append("delivered_at")
            outcome = "delivered"
        elif _round_attempts(delivery, lease.number) >= int(settings.OUTGOING_WEBHOOK_MAX_ATTEMPTS):
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            outcome = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(lease.number))
            outcome = "retry"
        delivery.save(update_fields=fields)
        _note_subscription(delivery.subscription_id, ok=result.ok, error=result.error, now=now)
    return outcome


def do_deliver_next_due() -> str | None:
    """The worker's step: POST the delivery due first. Returns "delivered", "retry", "failed",
    "skipped", or None when nothing is due."""
    lease = _lease_next_due()
    if lease is None:
        return None
    try:
        result = post_event(
            url=lease.url, secret=lease.secret, body=lease.body, event=lease.event, event_id=lease.event_id
        )
    except Exception as exc:  # a bug in the transport must not leave the lease to expire silently
        log.exception("outgoing webhook %s failed before an answer", lease.delivery_id)
        result = PostResult(ok=False, http_status=None, error=f"internal error: {type(exc).__name__}")
    return _store_outcome(lease, result)


def do_recover_expired_deliveries() -> int:
    """Deliveries whose worker died mid-POST (lease expired): that attempt is recorded as lost and the
    delivery is due again. Returns how many."""
    now = timezone.now()
    recovered = 0
    for delivery_id in list(
        WebhookDelivery.objects.filter(status=PENDING, locked_until__lt=now).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
            if delivery is None or delivery.status != PENDING or not delivery.locked_until:
                continue
            if delivery.locked_until >= now:
                continue
            WebhookDeliveryAttempt.objects.filter(delivery=delivery, succeeded__isnull=True).update(
                finished_at=now, succeeded=False, error="The worker stopped before it stored the answer."
            )
            delivery.locked_until = None
            delivery.next_attempt_at = now
            delivery.save(update_fields=["locked_until", "next_attempt_at"])
            recovered += 1
    return recovered


# --- an admin's resend ---------------------------------------------------------------------------


class DeliveryError(ValueError):
    """A resend that cannot be done now; the message is for the admin."""


def do_resend_delivery(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send this delivery again, now, with the same body and id (a fresh attempt budget)."""
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.locked_until is not None:
            raise DeliveryError(_("This delivery is being sent right now."))
        locked.status = PENDING
        locked.next_attempt_at = now
        locked.resend_requested = True
        locked.save(update_fields=["status", "next_attempt_at", "resend_requested"])
    return locked


def pending_for(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(subscription=subscription, status=PENDING)
