"""Webhook ingest: every delivery the Hub makes is verified, kept, and applied exactly once.

One delivery is one transaction: the raw event is recorded with a unique `dedup_key`, then applied (contact,
conversation, message, counters; or a delivery status) in the same transaction, and realtime events go
out after commit. A repeated delivery of the same event hits the unique key and changes nothing but its
own `duplicate` row: the Hub does not retry by itself (docs/hub.md, Delivery logs and retries), so every delivery is kept.

What the Hub is answered, and what is kept:
- handshake (`X-Validation-Token`): 200 with the token as a JSON string; nothing stored. Not signature
  checked: the Hub verifies a webhook before we hold its signing secret (it comes in the create answer).
- unknown URL (no Application with that public id): 404, nothing stored.
- not authenticated: 401; a `rejected` row keeps the reason, the headers and the first
  `REJECTED_BODY_LIMIT` bytes for diagnosis. That is a missing, stale or wrong signature, and any event
  while the Application has no active signing secret (fail closed: never connected, or its secrets
  removed). The one exception is an unsigned event while an admin has turned on "accept unsigned events"
  (`Application.accept_unsigned_events`, for a Hub account that cannot sign); a signature that is present
  is still checked. A rejected row is never reprocessed (it was not authenticated): the Hub's log holds
  the failure and `recover_webhooks` has it re-sent, re-signed.
- unreadable body (malformed JSON, wrong types, missing fields): 400 `{"error": "<field>: <problem>"}`;
  an `invalid` row keeps the whole body to inspect and reprocess after a fix. Nothing else is written.
  (A number where the Hub documents a string is read as its text; see channels_app/hub/events.py.)
- a string PostgreSQL cannot store (NUL, an unpaired surrogate): applied like any other event, with
  U+FFFD in place of each such character (the parser cleans the body); the row keeps the exact bytes.
  Refusing it would lose the customer's message: the Hub does not retry a 400 and recovery skips ours.
- unknown event type, unknown status value, or a channel this Application does not have: 200 and an
  `ignored` row with the reason. 200 because answering 4xx would not make the Hub send it again; the row
  can be reprocessed once the channel is registered.
- anything unexpected while applying: the transaction rolls back, a `failed` row keeps the body, and the
  answer is 500 so that the Hub's log shows the failure too (and `recover_webhooks` can re-send it).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from channels_app.hub.events import (
    EventError,
    InboundMessage,
    StatusUpdate,
    UnknownEvent,
    clean_text,
    event_type_of,
    parse_event,
)
from channels_app.hub.payloads import content_preview
from channels_app.hub.signatures import verify
from channels_app.models import Application, Channel
from conversations.actions.activity import record_activity
from conversations.actions.cycles import note_customer_message
from conversations.actions.reactions import attach_inbound_reaction, reaction_of
from conversations.actions.statuses import do_record_status
from conversations.actions.threads import publish_linked_panels
from conversations.events import publish_message_created
from conversations.models import Activity, Contact, Conversation, Message, WebhookEvent

log = logging.getLogger(__name__)

# Unauthenticated bodies are kept only this far: enough to tell what they were, too little to fill the disk.
REJECTED_BODY_LIMIT = 4096
# Headers worth keeping to understand a delivery; credentials are never stored.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_MAX_HEADERS = 40
_MAX_HEADER_LENGTH = 512
_DEDUP_KEY_LENGTH = 300


@dataclass(frozen=True)
class IngestResult:
    """What to answer the Hub: an HTTP status and a JSON-serializable body."""

    status: int
    body: Any


def _answer(row: WebhookEvent, status: int = 200) -> IngestResult:
    if status >= 400:
        return IngestResult(status, {"error": row.error})
    return IngestResult(status, {"ok": True, "outcome": row.outcome})


def _stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:_MAX_HEADERS]:
        key = clean_text(str(name)).lower()[:100]
        if key not in _SECRET_HEADERS:
            kept[key] = clean_text(str(value))[:_MAX_HEADER_LENGTH]
    return kept


def _dedup_key(key: str) -> str:
    # Ids are bounded by the parser, but a key must never fail the insert: hash what would not fit.
    if len(key) <= _DEDUP_KEY_LENGTH:
        return key
    return key[:200] + "#" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class _Route:
    """What every delivery to one webhook URL needs before it touches the database for real."""

    application: Application
    secrets: tuple[str, ...]
    channels: dict[uuid.UUID, Channel]
    expires: float


# Per process, WEBHOOK_ROUTE_CACHE_SECONDS: the Application, its signing secrets and its channels are read
# for every delivery but change rarely. A signature that fails, or a channel not found, is checked again
# against the database at once, so a new secret or a new channel never costs an event; a deactivated
# secret stays accepted for at most that long.
_routes: dict[str, _Route] = {}


def _route(public_id: uuid.UUID | str, *, fresh: bool = False) -> _Route | None:
    key = str(public_id)
    route = _routes.get(key)
    if route is not None and not fresh and route.expires > time.monotonic():
        return route
    try:
        application = Application.objects.filter(public_id=uuid.UUID(key)).first()
    except ValueError:
        return None
    if application is None:
        _routes.pop(key, None)
        return None
    route = _Route(
        application=application,
        secrets=tuple(application.signing_secrets.filter(active=True).values_list("secret", flat=True)),
        channels={c.hub_channel_id: c for c in application.channels.all()},
        expires=time.monotonic() + settings.WEBHOOK_ROUTE_CACHE_SECONDS,
    )
    _routes[key] = route
    return route


# Why an event is refused when nothing could verify it. Kept on the `rejected` row and sent to the Hub (its
# delivery log shows it): plain English, like the signature parser's reasons.
NO_SECRET_UNSIGNED = (
    "unsigned event refused: this Application has no active signing secret; connect its webhooks "
    '(signatures required), or let an admin turn on "accept unsigned events"'
)
NO_SECRET_SIGNED = (
    "signature cannot be checked: this Application has no active signing secret; connect its webhooks"
)


def _unauthenticated(route: _Route, body: bytes, header: str | None) -> str | None:
    """Why this delivery is not authenticated, or None when it may be applied.

    Fail closed: without a secret that verifies it, an event is refused. The one exception is an event
    with no signature at all while the Application's admin has turned on "accept unsigned events" (a Hub
    account that cannot sign); a signature that is present is always checked, switch or not.
    """
    if not header and route.application.accept_unsigned_events:
        return None
    if not route.secrets:
        return NO_SECRET_SIGNED if header else NO_SECRET_UNSIGNED
    return verify(body, header, route.secrets, max_skew=settings.HUB_SIGNATURE_MAX_SKEW)


def do_ingest_webhook(*, public_id: uuid.UUID | str, body: bytes, headers: Mapping[str, str]) -> IngestResult:
    """Take one delivery from the Hub. `headers` are keyed in lower case.

    Raises only when the database cannot even be read (the ASGI door answers 503 then).
    """
    route = _route(public_id)
    if route is None:
        return IngestResult(404, {"error": "unknown webhook URL"})
    application = route.application
    token = headers.get("x-validation-token")
    if token:
        # §4.5: the token back as a JSON string. Nothing to store and nothing to check.
        return IngestResult(200, token)

    header = headers.get("x-hub-signature")
    if not header:
        # Only the admin's switch lets an unsigned event in: judge it on a fresh read, so that turning the
        # switch off (or storing the first secret) holds at once in every process.
        route = _route(public_id, fresh=True) or route
    reason = _unauthenticated(route, body, header)
    if reason and header:
        # The cached secrets may predate a rotation: check against the database before refusing.
        route = _route(public_id, fresh=True) or route
        reason = _unauthenticated(route, body, header)
    if reason:
        row = _record(
            application,
            body[:REJECTED_BODY_LIMIT],
            headers,
            WebhookEvent.Outcome.REJECTED,
            reason,
            event_type=event_type_of(body[:REJECTED_BODY_LIMIT]),
        )
        log.warning("hub webhook for application %s rejected: %s", application.pk, reason)
        return _answer(row, 401)

    try:
        event = parse_event(body)
    except EventError as exc:
        row = _record(
            application,
            body,
            headers,
            WebhookEvent.Outcome.INVALID,
            clean_text(str(exc)),
            event_type=event_type_of(body),
        )
        log.info("hub webhook for application %s invalid: %s", application.pk, exc)
        return _answer(row, 400)

    row = WebhookEvent(
        application=application,
        event_type=clean_text(event.event_type)[:40],
        headers=_stored_headers(headers),
        body=body,
    )
    try:
        _apply(route, event, row)
    except Exception as exc:  # a bug or the database: keep the body, tell the Hub it failed
        log.exception("hub webhook for application %s failed while applying", application.pk)
        try:
            _record(
                application,
                body,
                headers,
                WebhookEvent.Outcome.FAILED,
                clean_text(f"{type(exc).__name__}: {exc}")[:2000],
                event_type=row.event_type,
            )
        except Exception:
            log.exception("could not even record the failed delivery")
            return IngestResult(503, {"error": "temporarily unavailable"})
        return IngestResult(500, {"error": "could not apply the event; it was kept"})
    return _answer(row)


def _record(
    application: Application,
    body: bytes,
    headers: Mapping[str, str],
    outcome: str,
    error: str,
    *,
    event_type: str = "",
) -> WebhookEvent:
    return WebhookEvent.objects.create(
        application=application,
        event_type=event_type,
        headers=_stored_headers(headers),
        body=body,
        outcome=outcome,
        error=error,
        processed_at=timezone.now(),
    )


def do_reprocess_webhook_event(*, event: WebhookEvent) -> str:
    """Apply a kept delivery again (after a fix or after its channel was registered). Returns the outcome.

    Processed and duplicate rows are left alone (reapplying changes nothing anyway); rejected rows were
    never authenticated and are refused.
    """
    if event.outcome in (WebhookEvent.Outcome.PROCESSED, WebhookEvent.Outcome.DUPLICATE):
        return event.outcome
    if event.outcome == WebhookEvent.Outcome.REJECTED:
        raise ValueError(
            "a delivery rejected for its signature cannot be reprocessed; recover it from the Hub"
        )
    if event.application is None:
        raise ValueError("this delivery belongs to no Application")
    try:
        parsed = parse_event(bytes(event.body))
    except EventError as exc:
        event.outcome = WebhookEvent.Outcome.INVALID
        event.error = clean_text(str(exc))
        event.reprocessed_count += 1
        event.processed_at = timezone.now()
        event.save(update_fields=["outcome", "error", "reprocessed_count", "processed_at"])
        return event.outcome
    event.reprocessed_count += 1
    event.event_type = clean_text(parsed.event_type)[:40]
    route = _route(event.application.public_id, fresh=True)
    # The row's Application was just loaded: only a concurrent delete leaves it without a route.
    assert route is not None
    _apply(route, parsed, event)
    return event.outcome


# --- applying ---------------------------------------------------------------------------------------


def _apply(route: _Route, event: InboundMessage | StatusUpdate | UnknownEvent, row: WebhookEvent) -> None:
    """Record `row` and apply `event`, in one transaction. Sets row.outcome/error."""
    application = route.application
    row.processed_at = timezone.now()
    row.error = ""
    reaction = reaction_of(event.content) if isinstance(event, InboundMessage) else None
    if (
        isinstance(event, InboundMessage)
        and reaction is None  # a reaction goes onto its target's row, not into a thread (reactions.py)
        and row.pk is None
        and connection.vendor == "postgresql"
    ):
        channel, _ = _channel_for(route, event)
        # One statement is one transaction: outside a transaction, none is opened for it (two round
        # trips fewer).
        if channel is not None and _apply_in_one_statement(row, _message_key(channel, event), channel, event):
            return
    with transaction.atomic():
        if isinstance(event, UnknownEvent):
            _ignore(row, event.reason)
            return
        if isinstance(event, StatusUpdate):
            if event.status is None:
                _ignore(row, f"unknown delivery status {event.reported_status[:40]!r}")
                return
            moment = int(event.occurred_at.timestamp()) if event.occurred_at else "-"
            key = f"status:{application.pk}:{event.message_id}:{event.status}:{moment}"
            if not _store_under_dedup_key(row, key):
                return
            do_record_status(
                application_id=application.pk,
                hub_message_id=event.message_id,
                status=event.status,
                occurred_at=event.occurred_at,
                error_code=event.error_code,
                error_message=event.error_message,
                raw=event.raw,
                source="webhook",
            )
            _finish(row, WebhookEvent.Outcome.PROCESSED)
            return
        channel, reason = _channel_for(route, event)
        if channel is None:
            _ignore(row, reason)
            return
        if not _store_under_dedup_key(row, _message_key(channel, event)):
            return
        attached = reaction is not None and attach_inbound_reaction(
            channel_id=channel.pk,
            application_id=channel.application_id,
            reaction=reaction,
            at=event.sent_at or timezone.now(),
        )
        if attached or _store_inbound(channel, event):
            _finish(row, WebhookEvent.Outcome.PROCESSED)
        else:
            # Stored before under another key (e.g. the legacy and the normalized shape of one message).
            row.dedup_key = None
            _finish(row, WebhookEvent.Outcome.DUPLICATE)


def _message_key(channel: Channel, event: InboundMessage) -> str:
    return f"msg:{channel.application_id}:{channel.hub_channel_id}:{event.message_id}"


def _save(row: WebhookEvent) -> None:
    if row.pk is None:
        row.save()
    else:
        row.save(
            update_fields=[
                "event_type",
                "dedup_key",
                "outcome",
                "error",
                "processed_at",
                "reprocessed_count",
            ]
        )


def _ignore(row: WebhookEvent, reason: str) -> None:
    row.outcome = WebhookEvent.Outcome.IGNORED
    row.error = clean_text(reason)
    _save(row)


def _finish(row: WebhookEvent, outcome: str) -> None:
    if row.outcome != outcome:
        row.outcome = outcome
        _save(row)


def _store_under_dedup_key(row: WebhookEvent, key: str) -> bool:
    """Save `row` under the event's unique key. False (and a `duplicate` row) if the event was seen before.

    Concurrent deliveries of one event serialize on the unique index: on PostgreSQL the second insert
    waits for the first transaction and fails once it commits; SQLite's IMMEDIATE transactions queue.
    """
    row.dedup_key = _dedup_key(key)
    # Saved as processed straight away: the common case then costs one insert, not an insert and an update.
    row.outcome = WebhookEvent.Outcome.PROCESSED
    if row.pk is None:
        if _insert_unless_conflict(row, conflict="(dedup_key)"):
            return True
    else:  # reprocessing a kept row
        try:
            with transaction.atomic():
                _save(row)
            return True
        except IntegrityError:
            pass
    row.dedup_key = None
    row.outcome = WebhookEvent.Outcome.DUPLICATE
    _save(row)
    return False


def _insert_parts(obj: Any, *, skip: str = "") -> tuple[list[str], list[Any]]:
    """The quoted columns of `obj`'s fields (but its primary key and the field `skip`), and the values a
    save would write there (`auto_now_add` fields are set on `obj` too)."""
    qn = connection.ops.quote_name
    fields = [f for f in obj._meta.concrete_fields if not f.primary_key and f.attname != skip]
    return [qn(f.column) for f in fields], [
        f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields
    ]


def _insert_unless_conflict(obj: Any, *, conflict: str) -> bool:
    """`INSERT … ON CONFLICT <conflict> DO NOTHING RETURNING id`. True, with obj.pk set, when inserted.

    One round trip where an insert guarded by a savepoint takes three (SAVEPOINT, INSERT, RELEASE): the
    webhook is the hottest path. PostgreSQL and SQLite (3.35+) both speak it; a concurrent insert of the
    same key makes PostgreSQL wait for that transaction, then do nothing if it committed.
    """
    meta = obj._meta
    qn = connection.ops.quote_name
    columns, values = _insert_parts(obj)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(values))}) "
        f"ON CONFLICT {conflict} DO NOTHING RETURNING {qn(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        inserted = cursor.fetchone()
    if inserted is None:
        return False
    obj.pk = inserted[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True


def _channel_for(route: _Route, event: InboundMessage) -> tuple[Channel | None, str]:
    if event.channel_id is not None:
        channel = route.channels.get(event.channel_id)
        if channel is None:  # registered since the route was cached?
            route = _route(route.application.public_id, fresh=True) or route
            channel = route.channels.get(event.channel_id)
        if channel is None:
            return None, (
                f"channel {event.channel_id} is not registered for this Application: "
                "register it, then reprocess this event"
            )
        return channel, ""
    # Legacy §4.4 bodies name no channel. They came from Messenger/Instagram only; when the Application has
    # exactly one such active channel it is that one, otherwise we cannot tell which.
    candidates = list(
        Channel.objects.filter(
            application=route.application, active=True, kind__in=("messenger", "instagram")
        )
    )
    if len(candidates) == 1:
        return candidates[0], ""
    return None, (
        f"legacy event without channelId and {len(candidates)} active Messenger/Instagram channels: "
        "cannot tell which channel received it"
    )


_ModelT = TypeVar("_ModelT", bound=models.Model)


def _get_or_create(model: type[_ModelT], **kwargs: Any) -> _ModelT:
    """get_or_create that survives a concurrent insert: the loser of the race reads the winner's row."""
    for _ in range(3):
        try:
            return model._default_manager.get_or_create(**kwargs)[0]
        except IntegrityError:
            continue
    return model._default_manager.get(**{k: v for k, v in kwargs.items() if k != "defaults"})


def _count_inbound_set(*, message_id: int | str, now: datetime, sent_at: datetime) -> tuple[str, list[Any]]:
    """The SET clause of the thread's counters for a new inbound message, and its parameters.
    `message_id`: the message's id, or (a str) the SQL expression that gives it.

    The row lock the UPDATE takes makes concurrent messages of one thread each add exactly one. A message
    delivered late (older than the inbound one shown) joins the thread without becoming the preview; a
    resolved thread reopens. The message shown is read by its primary key alone: with `direction` in the
    WHERE clause too, PostgreSQL planned a scan of every inbound message whenever its statistics were
    behind (a young table: 2.3 ms per event at 6,500 messages). Plain SQL (PostgreSQL and SQLite alike) because building this statement
    with the ORM's expressions cost more CPU than running it, on the hottest path there is.
    """
    conv, msg = Conversation._meta, Message._meta
    qn = connection.ops.quote_name

    def at(value: datetime) -> Any:
        return conv.get_field("last_activity_at").get_db_prep_value(value, connection)

    sql = f"""
            unread_count = unread_count + 1,
            last_activity_at = CASE WHEN last_activity_at > %s THEN last_activity_at ELSE %s END,
            last_inbound_at = CASE WHEN last_inbound_at > %s THEN last_inbound_at ELSE %s END,
            last_message_id = CASE WHEN (
                SELECT shown.direction = %s AND shown.sent_at > %s FROM {qn(msg.db_table)} shown
                WHERE shown.id = {qn(conv.db_table)}.last_message_id
            ) THEN last_message_id ELSE {message_id if isinstance(message_id, str) else "%s"} END,
            status_changed_at = CASE WHEN status IN (%s, %s) THEN %s ELSE status_changed_at END,
            status_changed_by_id = CASE WHEN status IN (%s, %s) THEN NULL ELSE status_changed_by_id END,
            snoozed_until = NULL,
            status = CASE WHEN status IN (%s, %s) THEN %s ELSE status END
    """
    # A customer's message wakes a snoozed thread at once; only a snoozed one has a wake-up time.
    closed = (Conversation.Status.RESOLVED, Conversation.Status.SNOOZED)
    params = [
        at(now), at(now),
        at(sent_at), at(sent_at),  # NULL > x is not true: the first inbound message sets it
        Message.Direction.INBOUND, at(sent_at), *([] if isinstance(message_id, str) else [message_id]),
        # Every SET reads the row as it was: a resolved or snoozed thread reopens, "by the customer", now.
        *closed, at(now),
        *closed,
        *closed, Conversation.Status.OPEN,
    ]  # fmt: skip
    return sql, params


def _reopened_sql(now: datetime) -> tuple[str, list[Any]]:
    """After `_count_inbound_set`'s UPDATE, whether it reopened the thread: only a resolved or snoozed
    thread's `status_changed_at` became this very `now` (RETURNING sees only the new row: which of the
    two it was is read before, see `_customer_reopened`)."""
    at = Conversation._meta.get_field("status_changed_at").get_db_prep_value(now, connection)
    return "status_changed_at = %s", [at]


def _count_inbound(*, conversation_id: int, message_id: int, now: datetime, sent_at: datetime) -> bool:
    """The thread's counters for a new inbound message, in one UPDATE (see `_count_inbound_set`).
    True when the message reopened a resolved or snoozed thread."""
    assignments, params = _count_inbound_set(message_id=message_id, now=now, sent_at=sent_at)
    reopened, reopened_params = _reopened_sql(now)
    table = connection.ops.quote_name(Conversation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE id = %s RETURNING {reopened}",
            [*params, conversation_id, *reopened_params],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _customer_reopened(channel: Channel, conversation_id: int, *, was: str) -> None:
    """The activity line of a thread the customer reopened by writing (after their message's event):
    "reopened" for a resolved one, "woke up: the customer wrote" for a snoozed one. `was`: its status
    before the message."""
    thread = Conversation(pk=conversation_id, channel_id=channel.pk, application_id=channel.application_id)
    verb = Activity.CUSTOMER_WOKE if was == Conversation.Status.SNOOZED else Activity.REOPENED
    record_activity(conversation=thread, verb=verb, actor=None)
    publish_linked_panels(application_id=channel.application_id, conversation_id=conversation_id)


def _returning_conversation_id(*, channel_id: int, external_id: str) -> int | None:
    """The thread of a customer we know (the common case): one query for contact and conversation.

    Plain SQL for the same reason as `_count_inbound`: the ORM spent longer building it than running it.
    """
    qn = connection.ops.quote_name
    sql = (
        f"SELECT c.id FROM {qn(Conversation._meta.db_table)} c "
        f"JOIN {qn(Contact._meta.db_table)} k ON k.id = c.contact_id "
        "WHERE k.channel_id = %s AND k.external_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [channel_id, external_id])
        row = cursor.fetchone()
    return row[0] if row else None


def _apply_in_one_statement(row: WebhookEvent, key: str, channel: Channel, event: InboundMessage) -> bool:
    """A message from a customer we know, or a repeated delivery, in one statement (PostgreSQL only).

    The common case of the hottest path: the delivery's row, the message and the thread's counters in
    one round trip instead of six, or the `duplicate` row of a repeated delivery. False, with nothing
    written, for a customer seen for the first time, a conversation without an open cycle (resolved,
    or reopened by an agent: its cycle is kept in conversations/actions/cycles.py), a repeat whose first delivery is still committing,
    or a message stored before under another key: the general path then runs.
    """
    now = timezone.now()
    sent_at: datetime = event.sent_at or now
    row.dedup_key, row.outcome = _dedup_key(key), WebhookEvent.Outcome.PROCESSED
    row_columns, row_values = _insert_parts(row)
    repeat = dict(zip(row_columns, row_values, strict=True))
    repeat[connection.ops.quote_name("dedup_key")] = None
    repeat[connection.ops.quote_name("outcome")] = WebhookEvent.Outcome.DUPLICATE
    message = Message(
        channel=channel,
        direction=Message.Direction.INBOUND,
        content=event.content,
        preview=content_preview(event.content)[:300],
        hub_message_id=event.message_id,
        status=Message.Status.RECEIVED,
        sent_at=sent_at,
    )
    message_columns, message_values = _insert_parts(message, skip="conversation_id")
    counters, counter_params = _count_inbound_set(message_id="(SELECT id FROM msg)", now=now, sent_at=sent_at)
    reopened, reopened_params = _reopened_sql(now)
    qn = connection.ops.quote_name
    rows, messages = qn(WebhookEvent._meta.db_table), qn(Message._meta.db_table)
    threads, contacts = qn(Conversation._meta.db_table), qn(Contact._meta.db_table)
    values = ", ".join(["%s"] * len(row_values))
    # The statements of one WITH share a snapshot: each reads what the one before it returned, and each
    # runs whether or not the last SELECT reads it. `ev` waits, as a plain insert would, for a concurrent
    # delivery of the same event to commit (then `dup` does not see it: the general path records it).
    sql = f"""
        WITH conv AS (
            SELECT c.id, c.status FROM {threads} c JOIN {contacts} k ON k.id = c.contact_id
            WHERE k.channel_id = %s AND k.external_id = %s AND c.open_cycle_id IS NOT NULL
        ), ev AS (
            INSERT INTO {rows} ({", ".join(row_columns)}) SELECT {values}
            WHERE EXISTS (SELECT 1 FROM conv) AND NOT EXISTS (
                SELECT 1 FROM {messages} WHERE channel_id = %s AND hub_message_id = %s
            )
            ON CONFLICT (dedup_key) DO NOTHING RETURNING id
        ), msg AS (
            INSERT INTO {messages} (conversation_id, {", ".join(message_columns)})
            SELECT conv.id, {", ".join(["%s"] * len(message_values))} FROM conv WHERE EXISTS (SELECT 1 FROM ev)
            ON CONFLICT (channel_id, hub_message_id) WHERE hub_message_id IS NOT NULL DO NOTHING
            RETURNING id, conversation_id
        ), counted AS (
            UPDATE {threads} SET {counters} WHERE id = (SELECT conversation_id FROM msg)
            RETURNING {reopened} AS reopened
        ), dup AS (
            INSERT INTO {rows} ({", ".join(repeat)}) SELECT {values}
            WHERE NOT EXISTS (SELECT 1 FROM ev) AND EXISTS (SELECT 1 FROM {rows} WHERE dedup_key = %s)
            RETURNING id
        )
        SELECT (SELECT id FROM conv), (SELECT id FROM ev), (SELECT id FROM msg), (SELECT id FROM dup),
            (SELECT reopened FROM counted), (SELECT status FROM conv)
    """
    params = [
        channel.pk, event.sender,
        *row_values, channel.pk, event.message_id,
        *message_values,
        *counter_params, *reopened_params,
        *repeat.values(), row.dedup_key,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        conversation_id, row_id, message_id, repeat_id, reopened_now, was = cursor.fetchone()
    if repeat_id is None and row_id is None:  # nothing written
        row.dedup_key, row.outcome = None, ""
        return False
    row.pk = repeat_id or row_id
    row._state.adding, row._state.db = False, connection.alias
    if repeat_id is not None:
        row.dedup_key, row.outcome = None, WebhookEvent.Outcome.DUPLICATE
    elif message_id is None:
        # The message was stored meanwhile, under another key, by a delivery still committing when this
        # statement began (`msg` waited for it). Rare: this row then says so in a statement of its own.
        row.dedup_key = None
        _finish(row, WebhookEvent.Outcome.DUPLICATE)
    else:
        publish_message_created(
            application_id=channel.application_id,
            conversation_id=conversation_id,
            message_id=message_id,
            inbound=True,  # a known customer: never a new conversation on this path
        )
        if reopened_now:
            # `was` is this statement's snapshot: only a status changed between it and the row lock
            # (resolved and snoozed at the same instant) could name the wrong one of the two.
            _customer_reopened(channel, conversation_id, was=was)
    return True


def _store_inbound(channel: Channel, event: InboundMessage) -> bool:
    """Contact, conversation and message for an inbound event. False when the message already exists."""
    now = timezone.now()
    sent_at: datetime = event.sent_at or now
    conversation_id = _returning_conversation_id(channel_id=channel.pk, external_id=event.sender)
    new_conversation = conversation_id is None
    if conversation_id is None:
        contact = _get_or_create(Contact, channel=channel, external_id=event.sender)
        conversation_id = _get_or_create(
            Conversation,
            contact=contact,
            defaults={"application_id": channel.application_id, "channel": channel, "last_activity_at": now},
        ).pk
    message = Message(
        conversation_id=conversation_id,
        channel=channel,
        direction=Message.Direction.INBOUND,
        content=event.content,
        preview=content_preview(event.content)[:300],
        hub_message_id=event.message_id,
        status=Message.Status.RECEIVED,
        sent_at=sent_at,
    )
    if not _insert_unless_conflict(
        message, conflict="(channel_id, hub_message_id) WHERE hub_message_id IS NOT NULL"
    ):
        return False

    was = note_customer_message(conversation_id=conversation_id, at=now)
    reopened = _count_inbound(
        conversation_id=conversation_id, message_id=message.pk, now=now, sent_at=sent_at
    )

    publish_message_created(
        application_id=channel.application_id,
        conversation_id=conversation_id,
        message_id=message.pk,
        inbound=True,
        new_conversation=new_conversation,
    )
    if reopened:
        _customer_reopened(channel, conversation_id, was=was)
    return True
