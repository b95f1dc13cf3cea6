"""An agent's reply: stored first, then sent by a background worker; never lost, never sent twice by us.

The replies table is the queue (as healthchecks' `sendalerts` loops over unprocessed rows): a reply is
*due* while it is `pending`, no worker holds a lease on it and its `next_attempt_at` has come. There is
no second record of the work to keep in step with the reply, and nothing to lose between a commit and a
queue. The send path, in the order things happen:
1. `do_send_reply` checks the content against the channel (an agent reads the reason at once) and stores
   the reply `pending`, due now, under the composer's idempotency key (a resubmitted form finds the same
   row).
2. `do_send_next_due` (the worker's step) takes the reply due first that no other worker is taking
   (`SELECT … FOR UPDATE SKIP LOCKED`), gives it a lease and an in-flight `SendAttempt`, commits, and only
   then calls the Hub, so no transaction or row lock is held across the network. The answer is stored in a
   second transaction: accepted -> the Hub id and `enqueued`/`sent`; rejected or a permanent error ->
   `failed` with the reason; a transient error -> due again after a backoff (exponential with jitter)
   until HUB_SEND_MAX_ATTEMPTS, then `failed` with the last reason.
3. `do_recover_expired_leases` (the worker's sweep) finds pending replies whose worker died mid-send
   (lease expired), records that attempt as lost and makes the reply due again.

Delivery guarantee: at least once for the window between "the Hub accepted" and "we stored its answer"
(a read timeout, or a worker killed right there): the reply is sent again and the customer may get it
twice; that is the price of never losing one. Everywhere else exactly once: the lease and the status
checks under lock make a second worker, a double click or a repeated step a no-op.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from channels_app.hub.client import HubClient, HubError, SendResult
from channels_app.hub.content import ContentError, check_content, check_recipient, check_window
from channels_app.hub.payloads import content_preview
from channels_app.models import Application, Channel
from conversations.actions.statuses import apply_status_change, do_store_send_result, publish_status_on_commit
from conversations.events import publish_message_created
from conversations.models import Conversation, Message, MessageStatusChange, SendAttempt

log = logging.getLogger(__name__)

OUTBOUND = Message.Direction.OUTBOUND
PENDING = Message.Status.PENDING
FAILED = Message.Status.FAILED

# Error codes we set ourselves (the Hub's own codes are kept as they come, e.g. "131026").
WORKER_LOST = "worker_lost"
CHANNEL_INACTIVE = "channel_inactive"


def lease_seconds() -> float:
    """How long a worker owns a reply while it calls the Hub: never shorter than the call can take."""
    floor = float(settings.HUB_CONNECT_TIMEOUT) + float(settings.HUB_READ_TIMEOUT) + 2
    return max(float(settings.HUB_SEND_LEASE_SECONDS), floor)


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Wait before attempt `attempt + 1`: exponential from HUB_SEND_BACKOFF_BASE, capped, "equal jitter"
    (half fixed, half random) so a burst of replies failing together does not come back together."""
    ceiling = min(
        float(settings.HUB_SEND_BACKOFF_MAX),
        float(settings.HUB_SEND_BACKOFF_BASE) * 2.0 ** max(attempt - 1, 0),
    )
    jitter = rng.uniform(0, ceiling / 2) if rng is not None else random.uniform(0, ceiling / 2)
    return ceiling / 2 + jitter


# --- storing a reply --------------------------------------------------------------------------------


def _existing_reply(idempotency_key: str, conversation: Conversation) -> Message | None:
    message = Message.objects.filter(idempotency_key=idempotency_key).first()
    if message is not None and message.conversation_id != conversation.pk:
        # Keys are random per composer form; a clash means a reused form, and never another tenant's row.
        raise ContentError("This form was already used for another conversation: reload the page.")
    return message


def do_send_reply(
    *, conversation: Conversation, author: Any, content: dict[str, Any], idempotency_key: str
) -> Message:
    """Store an agent's reply as `pending`, due now: a worker sends it. Returns the reply.

    `content` is a Hub content object, best built with `channels_app.hub.content.build_reply_content`;
    it is checked again here against the channel, the customer's id and the service window.
    `idempotency_key` (1–64 characters) comes from the composer form: the same key returns the reply
    already stored for it, so a double click or a resubmitted form stores and sends one message.
    Raises ContentError (agent-readable) when the reply cannot be sent: nothing is stored then.
    Publishes `message.created` after commit (it brings the row and the header along: fanout.py).
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise ContentError("This form has no valid send key: reload the page and send again.")
    existing = _existing_reply(key, conversation)
    if existing is not None:
        return existing

    channel = Channel.objects.get(pk=conversation.channel_id)  # fresh: it may have been deactivated
    if not channel.active:
        raise ContentError(
            f"The channel “{channel.display_name}” is deactivated: replies can't be sent from it."
        )
    check_content(channel.kind, content)
    check_recipient(channel.kind, conversation.contact.external_id)
    check_window(channel_kind=channel.kind, content=content, last_inbound_at=conversation.last_inbound_at)

    now = timezone.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                channel=channel,
                direction=OUTBOUND,
                content=content,
                preview=content_preview(content)[:300],
                status=PENDING,
                author=author if getattr(author, "pk", None) else None,
                idempotency_key=key,
                status_changed_at=now,
                next_attempt_at=now,
            )
            Conversation.objects.filter(pk=conversation.pk).update(last_message=message, last_activity_at=now)
            publish_message_created(
                application_id=conversation.application_id,
                conversation_id=conversation.pk,
                message_id=message.pk,
            )
    except IntegrityError:
        # Two submissions of one form raced: the other one stored it first.
        existing = _existing_reply(key, conversation)
        if existing is None:
            raise
        return existing
    return message


# --- one attempt ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SendLease:
    """A worker's lease on one reply: what it needs to call the Hub with no row locked."""

    message_id: int
    attempt_id: int
    number: int
    application: Application
    channel_kind: str
    hub_channel_id: str
    to: str
    content: dict[str, Any]


def _locked_reply_by_id(message_id: int) -> Message | None:
    # of=("self",): lock the reply only, not the channel/conversation rows the join reads.
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("channel__application", "conversation__contact")
        .filter(pk=message_id, direction=OUTBOUND)
        .first()
    )


def _fail(message: Message, *, code: str, reason: str, now: datetime) -> None:
    """Mark a reply (locked by the caller) failed with an agent-readable reason, through the status rules."""
    change = MessageStatusChange(
        application_id=message.channel.application_id,
        message=message,
        hub_message_id=message.hub_message_id or "",
        status=FAILED,
        error_code=code[:64],
        error_message=reason,
        occurred_at=now,
        source="send",
    )
    apply_status_change(message, change)
    change.save()
    message.locked_until = None
    message.next_attempt_at = None
    message.save(update_fields=["locked_until", "next_attempt_at"])


def _round_attempts(message: Message, number: int) -> int:
    """Attempts in the current round: a manual retry starts a new round with a fresh attempt budget."""
    last_manual = SendAttempt.objects.filter(message=message, manual=True, number__lte=number).aggregate(
        n=Max("number")
    )["n"]
    return number - last_manual + 1 if last_manual else number


def _is_manual(message: Message) -> bool:
    """Whether the attempt about to start follows an agent's retry (and not an automatic one)."""
    retried = message.status_changes.filter(source="retry").aggregate(at=Max("occurred_at"))["at"]
    if retried is None:
        return False
    last_attempt = message.attempts.aggregate(at=Max("started_at"))["at"]
    return last_attempt is None or last_attempt < retried


def _due(now: datetime) -> QuerySet[Message]:
    """Replies a worker may take now: pending, held by no worker, their time come."""
    return Message.objects.filter(direction=OUTBOUND, status=PENDING, locked_until__isnull=True).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
    )


def _lease_next_due() -> _SendLease | str | None:
    """Lease the reply due first (oldest due time, then oldest reply); None when nothing is due."""
    now = timezone.now()
    # An idle worker polls: a plain indexed read then, not a locking transaction (on SQLite an IMMEDIATE
    # one takes the database's write lock, which a worker polling without pause would hardly let go).
    if not _due(now).exists():
        return None
    with transaction.atomic():
        # SKIP LOCKED: workers never wait on each other, each takes a different row. (SQLite has no row
        # locks; its IMMEDIATE transactions, settings.py, make the claims take turns instead.)
        message = (
            _due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("channel__application", "conversation__contact")
            .order_by("next_attempt_at", "id")
            .first()
        )
        if message is None:
            return None
        return _lease(message, now)


def _lease_for_sending(message_id: int) -> _SendLease | str:
    now = timezone.now()
    with transaction.atomic():
        message = _locked_reply_by_id(message_id)
        if message is None or message.status != PENDING:
            return "skipped"  # sent, failed or gone: a repeated step is a no-op
        if message.locked_until and message.locked_until > now:
            return "skipped"  # another worker is sending it right now
        if message.next_attempt_at and message.next_attempt_at > now + timedelta(seconds=1):
            return "skipped"  # not due yet: a worker takes it when its time comes
        return _lease(message, now)


def _lease(message: Message, now: datetime) -> _SendLease | str:
    """Give a locked, due reply to this worker: a lease and an in-flight attempt (or fail it at once)."""
    if not message.channel.active:
        _fail(
            message,
            code=CHANNEL_INACTIVE,
            reason=f"The channel “{message.channel.display_name}” was deactivated before this reply went out.",
            now=now,
        )
        return "failed"
    manual = _is_manual(message)
    message.attempt_count += 1
    message.locked_until = now + timedelta(seconds=lease_seconds())
    message.save(update_fields=["attempt_count", "locked_until"])
    attempt = SendAttempt.objects.create(
        message=message, number=message.attempt_count, started_at=now, manual=manual
    )
    return _SendLease(
        message_id=message.pk,
        attempt_id=attempt.pk,
        number=attempt.number,
        application=message.channel.application,
        channel_kind=message.channel.kind,
        hub_channel_id=str(message.channel.hub_channel_id),
        to=message.conversation.contact.external_id,
        content=message.content,
    )


def agent_reason(error: HubError) -> str:
    """A sentence an agent understands for a Hub error (the raw detail stays on the SendAttempt)."""
    if error.status == 401:
        return "The Hub refused this Application's API key (401) — ask an admin to check it."
    if error.status == 404:
        return (
            f"The Hub does not know this channel (404: {error.message}) — it may have been disconnected; "
            "ask an admin to check the channel."
        )
    if error.status == 429:
        return "The Hub is rate limiting us (429)."
    if error.status and error.status >= 500:
        return f"The Hub had an internal error (HTTP {error.status}: {error.message})."
    if error.status:
        return f"The Hub rejected this reply (HTTP {error.status}): {error.message}"
    if error.kind == "timeout":
        return (
            f"The Hub did not answer in time ({settings.HUB_READ_TIMEOUT:g} s); it may have sent the reply."
        )
    if error.kind in ("connection", "connect_timeout"):
        return "Could not reach the Hub (network error or the Hub is down)."
    return error.message


def _error_code(error: HubError) -> str:
    return (error.error_code or (f"http_{error.status}" if error.status else error.kind))[:64]


def _store_outcome(lease: _SendLease, result: SendResult | None, error: HubError | None) -> str:
    now = timezone.now()
    with transaction.atomic():
        message = _locked_reply_by_id(lease.message_id)
        attempt = SendAttempt.objects.select_for_update().get(pk=lease.attempt_id)
        if message is None:
            return "skipped"
        # Still ours unless the sweep took the reply over after our lease expired (we were too slow).
        holder = message.attempt_count == lease.number and message.status == PENDING
        attempt.finished_at = now
        if result is not None:
            attempt.http_status = result.http_status
            attempt.hub_request_id = result.request_id[:128]
        if result is not None and result.accepted:
            attempt.outcome = SendAttempt.Outcome.ACCEPTED
            attempt.error_code = attempt.error_message = ""
            if message.status not in (PENDING, FAILED):
                # Another attempt of ours got there first: the Hub now has it twice (at-least-once window).
                attempt.error_message = "The Hub accepted this reply again: the customer may get it twice."
                log.warning("reply %s accepted twice by the Hub (attempt %s)", message.pk, lease.number)
            else:
                # A failed reply the Hub did take (our answer came after the sweep gave up) is sent after all.
                message.status = PENDING
                do_store_send_result(
                    message=message, hub_message_id=result.message_id or "", status=result.status
                )
                message.locked_until = None
                message.next_attempt_at = None
                message.save(update_fields=["locked_until", "next_attempt_at"])
            attempt.save()
            return "sent"
        if result is not None:
            # HTTP 200 with status "error" (docs/hub.md, Sending): the channel refused it; trying again won't help.
            attempt.outcome = SendAttempt.Outcome.REJECTED
            attempt.error_code = result.error_code[:64]
            attempt.error_message = result.error_message
            attempt.save()
            if holder:
                _fail(
                    message,
                    code=result.error_code or "error",
                    reason=result.error_message or "The channel refused this reply.",
                    now=now,
                )
            return "failed"
        assert error is not None
        attempt.http_status = error.status
        attempt.hub_request_id = error.request_id[:128]
        attempt.error_code = _error_code(error)
        attempt.error_message = error.message  # status and code have their own columns
        if error.permanent:
            attempt.outcome = SendAttempt.Outcome.PERMANENT_ERROR
            attempt.save()
            if holder:
                _fail(message, code=_error_code(error), reason=agent_reason(error), now=now)
            return "failed"
        attempt.outcome = SendAttempt.Outcome.TRANSIENT_ERROR
        attempt.save()
        if not holder:
            return "skipped"
        return _after_transient(message, number=lease.number, error=error, now=now)


def _after_transient(message: Message, *, number: int, error: HubError, now: datetime) -> str:
    """Schedule the next attempt of a reply (locked) after a transient failure, or give up."""
    if error.maybe_delivered and not settings.HUB_SEND_RETRY_ON_READ_TIMEOUT:
        _fail(
            message,
            code=_error_code(error),
            reason=agent_reason(error) + " Check with the customer before sending it again.",
            now=now,
        )
        return "failed"
    attempts = _round_attempts(message, number)
    if attempts >= settings.HUB_SEND_MAX_ATTEMPTS:
        _fail(
            message,
            code=_error_code(error),
            reason=f"Not sent after {attempts} attempts. Last error: {agent_reason(error)}",
            now=now,
        )
        return "failed"
    message.next_attempt_at = now + timedelta(seconds=backoff_seconds(attempts))
    message.locked_until = None
    message.save(update_fields=["next_attempt_at", "locked_until"])  # due again at that time
    return "retry"


def _send_and_store(lease: _SendLease) -> str:
    result: SendResult | None = None
    error: HubError | None = None
    try:
        # Outside any transaction: the Hub may take up to the read timeout and no row stays locked meanwhile.
        result = HubClient.for_application(lease.application).send_message(
            channel_kind=lease.channel_kind,
            channel_id=lease.hub_channel_id,
            to=lease.to,
            content=lease.content,
        )
    except HubError as exc:
        error = exc
    except Exception as exc:  # e.g. a key that cannot be decrypted: recorded and retried, never lost
        log.exception("sending reply %s failed before the Hub answered", lease.message_id)
        error = HubError(f"internal error while sending: {exc}", permanent=False, kind="internal")
    return _store_outcome(lease, result, error)


def do_send_next_due() -> str | None:
    """The worker's step: send the reply due first that no other worker holds. Returns what happened
    ("sent", "failed", "retry": due again later), or None when no reply is due."""
    lease = _lease_next_due()
    if lease is None or isinstance(lease, str):
        return lease
    return _send_and_store(lease)


def do_attempt_send(*, message_id: int) -> str:
    """Make one attempt to send this pending reply now. Safe to run twice or concurrently.

    Returns what happened: "sent", "failed", "retry" (due again later) or "skipped" (not pending, not due,
    or another worker holds it).
    """
    lease = _lease_for_sending(message_id)
    if isinstance(lease, str):
        return lease
    return _send_and_store(lease)


# --- manual retry -----------------------------------------------------------------------------------


def do_retry_reply(*, message_id: int, actor: Any) -> Message:
    """Send a failed reply again, for real: back to `pending`, a new (manual) attempt with a fresh budget.

    Every earlier attempt and error stays in the reply's history. The caller has checked that `actor` may
    see the reply's Application. Raises ContentError when the reply is not failed any more (e.g. it was
    delivered meanwhile) or can no longer be sent (channel deactivated, service window closed).
    """
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_reply_by_id(message_id)
        if locked is None or locked.status != FAILED:
            raise ContentError("Only a failed reply can be sent again.")
        if not locked.channel.active:
            raise ContentError(f"The channel “{locked.channel.display_name}” is deactivated.")
        check_window(
            channel_kind=locked.channel.kind,
            content=locked.content,
            last_inbound_at=locked.conversation.last_inbound_at,
            now=now,
        )
        MessageStatusChange.objects.create(
            application_id=locked.channel.application_id,
            message=locked,
            hub_message_id=locked.hub_message_id or "",
            status=PENDING,
            occurred_at=now,
            applied=True,
            source="retry",
            raw={
                "actor_id": getattr(actor, "pk", None),
                "previous_error_code": locked.error_code,
                "previous_error_message": locked.error_message,
            },
        )
        # The one move backwards the status rules allow, and only from here: failed -> pending.
        locked.status = PENDING
        locked.status_changed_at = now
        locked.error_code = ""
        locked.error_message = ""
        locked.next_attempt_at = now
        locked.locked_until = None
        locked.save(
            update_fields=[
                "status", "status_changed_at", "error_code", "error_message", "next_attempt_at", "locked_until"
            ]
        )  # fmt: skip
        publish_status_on_commit(locked)  # due now: a worker takes it
    return locked


# --- crash recovery ---------------------------------------------------------------------------------


def _recover_expired_lease(message_id: int, now: datetime) -> bool:
    with transaction.atomic():
        message = _locked_reply_by_id(message_id)
        if (
            message is None
            or message.status != PENDING
            or not message.locked_until
            or message.locked_until >= now
        ):
            return False
        # The worker died between taking the lease and storing the Hub's answer: the Hub may or may not have it.
        SendAttempt.objects.filter(message=message, outcome=SendAttempt.Outcome.IN_FLIGHT).update(
            outcome=SendAttempt.Outcome.TRANSIENT_ERROR,
            finished_at=now,
            error_code=WORKER_LOST,
            error_message="The worker stopped before it stored the Hub's answer; the Hub may have sent it.",
        )
        attempts = _round_attempts(message, message.attempt_count)
        if attempts >= settings.HUB_SEND_MAX_ATTEMPTS:
            _fail(
                message,
                code=WORKER_LOST,
                reason=f"Not sent after {attempts} attempts: the worker stopped while sending.",
                now=now,
            )
            return False
        message.locked_until = None
        message.next_attempt_at = now  # due again: any worker takes it
        message.save(update_fields=["locked_until", "next_attempt_at"])
        return True


def do_recover_expired_leases() -> int:
    """Crash recovery (the worker runs it at start and every WORKER_SWEEP_INTERVAL): every pending reply
    whose lease expired (its worker died mid-send) has that attempt recorded as lost and is due again.
    Returns how many were made due."""
    now = timezone.now()
    expired = Message.objects.filter(direction=OUTBOUND, status=PENDING, locked_until__lt=now)
    recovered = sum(
        _recover_expired_lease(message_id, now) for message_id in list(expired.values_list("pk", flat=True))
    )
    if recovered:
        log.info("made %s replies of a stopped worker due again", recovered)
    return recovered


def due_replies(*, now: datetime | None = None) -> QuerySet[Message]:
    """Replies waiting for a worker now (the health panel counts them)."""
    return _due(now or timezone.now())
