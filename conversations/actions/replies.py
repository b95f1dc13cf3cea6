"""An agent's reply: stored first, then sent by a background worker; never lost, never sent twice by us.

The replies table is the queue (as healthchecks' `sendalerts` loops over unprocessed rows): a reply is
*due* while it is `pending`, no worker holds a lease on it and its `next_attempt_at` has come. There is
no second record of the work to keep in step with the reply, and nothing to lose between a commit and a
queue. The send path, in the order things happen:
1. `do_send_reply` checks the content against the channel (an agent reads the reason at once) and stores
   the reply `pending`, due now, under the composer's idempotency key (a resubmitted form finds the same
   row).
2. `do_send_step` (the worker's turn, conversations/worker.py) takes the replies due first that no other
   worker is taking (`SELECT … FOR UPDATE SKIP LOCKED LIMIT n`, n = the worker's free sender threads),
   gives each a lease and an in-flight `SendAttempt`, commits, and only then are the Hub calls made (on
   the worker's threads, `send_to_hub`), so no transaction or row lock is held across the network. The
   answers are stored by the next turn, together: accepted -> the Hub id and `enqueued`/`sent`; rejected
   or a permanent error -> `failed` with the reason; a transient error -> due again after a backoff
   (exponential with jitter) until HUB_SEND_MAX_ATTEMPTS, then `failed` with the last reason.
   `do_send_next_due` and `do_attempt_send` do the same for one reply, on the caller's thread.
3. `do_recover_expired_leases` (the worker's sweep) finds pending replies whose worker died mid-send
   (lease expired), records that attempt as lost and makes the reply due again.

Delivery guarantee: at least once for the window between "the Hub accepted" and "we stored its answer"
(a read timeout, or a worker killed right there: each of the calls it had in flight): the reply is sent
again and the customer may get it twice; that is the price of never losing one. Everywhere else exactly
once: the lease and the status checks make a second worker, a double click or a repeated step a no-op.

The common path (a batch leased, accepted, stored) is plain SQL, a few statements per batch whatever its
size: with the ORM and one reply at a time, the worker spent ~17 round trips and ~11 ms of CPU per reply
(docs/benchmarks.md, Sending replies). Every other outcome goes through the ORM and the status rules.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels_app.access import person_name
from channels_app.crypto import decrypt
from channels_app.hub.client import HubClient, HubError, SendResult
from channels_app.hub.content import ContentError, check_content, check_recipient, check_window
from channels_app.hub.message_content import clip
from channels_app.hub.payloads import content_preview
from channels_app.models import Application, Channel
from conversations.actions.activity import record_activity
from conversations.actions.cycles import note_agent_reply
from conversations.actions.reactions import quote_of, reaction_of, set_reaction
from conversations.actions.statuses import (
    DELIVERY_STATUSES,
    apply_status_change,
    do_apply_parked_statuses,
    do_store_send_result,
    publish_status_on_commit,
)
from conversations.events import publish_message_created, publish_on_commit
from conversations.models import (
    Activity,
    Contact,
    Conversation,
    Message,
    MessageStatusChange,
    SendAttempt,
    Upload,
)

log = logging.getLogger(__name__)

OUTBOUND = Message.Direction.OUTBOUND
PENDING = Message.Status.PENDING
FAILED = Message.Status.FAILED

# Error codes we set ourselves (the Hub's own codes are kept as they come, e.g. "131026").
WORKER_LOST = "worker_lost"
CHANNEL_INACTIVE = "channel_inactive"
# Said when a reply refused for its content is asked to be sent again as is (one by one or in bulk).
PERMANENT_NOT_RETRIED = gettext_lazy(
    "The Hub refused this reply's content, so sending it again unchanged cannot succeed: use “Edit and resend”."
)


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
        raise ContentError(_("This form was already used for another conversation: reload the page."))
    return message


def do_send_reply(
    *,
    conversation: Conversation,
    author: Any,
    content: dict[str, Any],
    idempotency_key: str,
    quote: Message | None = None,
    reacts_to: Message | None = None,
    upload: Upload | None = None,
    template: dict[str, str] | None = None,
) -> Message:
    """Store an agent's reply as `pending`, due now: a worker sends it. Returns the reply.

    `content` is a Hub content object, best built with `channels_app.hub.content.build_reply_content`;
    it is checked again here against the channel, the customer's id and the service window.
    `idempotency_key` (1–64 characters) comes from the composer form: the same key returns the reply
    already stored for it, so a double click or a resubmitted form stores and sends one message.
    Raises ContentError (agent-readable) when the reply cannot be sent: nothing is stored then.
    Publishes `message.created` after commit (it brings the row and the header along: fanout.py).

    `quote`: the message this reply quotes (same conversation; `content` carries its `replyTo`), copied
    onto the reply for its bubble. `reacts_to`: `content` is the agent's reaction to that message of the
    conversation; it is drawn on that bubble (reactions.py) and neither moves nor bumps the thread.
    `upload`: the stored file `content` links to (actions/uploads.py), taken by this reply in its
    transaction, so it is no longer an orphan for housekeeping. `template`: a library template's
    {"name", "language", "text" (rendered)}, shown by the bubble and the previews instead of its id.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise ContentError(_("This form has no valid send key: reload the page and send again."))
    # The channel fresh (it may have been deactivated), and whether this form's reply is stored already,
    # in one round trip: the common case finds none.
    channel = (
        Channel.objects.filter(pk=conversation.channel_id)
        .annotate(stored_id=Subquery(Message.objects.filter(idempotency_key=key).values("pk")[:1]))
        .get()
    )
    if channel.stored_id is not None:
        existing = _existing_reply(key, conversation)
        if existing is not None:
            return existing
    if not channel.active:
        raise ContentError(
            _("The channel “%(channel)s” is deactivated: replies can't be sent from it.")
            % {"channel": channel.display_name}
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
                preview=(clip(template["text"]) if template else content_preview(content))[:300],
                template=template or {},
                status=PENDING,
                author=author if getattr(author, "pk", None) else None,
                idempotency_key=key,
                status_changed_at=now,
                next_attempt_at=now,
                quote=quote_of(quote) if quote is not None else {},
            )
            if upload is not None:
                Upload.objects.filter(pk=upload.pk, message__isnull=True).update(message=message)
            if reacts_to is not None:
                target = Message.objects.select_for_update().get(pk=reacts_to.pk)
                reaction = reaction_of(content)
                set_reaction(
                    target=target,
                    who="agent",
                    emoji=reaction.emoji if reaction else "",
                    at=now,
                    application_id=conversation.application_id,
                )
            else:
                Conversation.objects.filter(pk=conversation.pk).update(
                    last_message=message, last_activity_at=now
                )
                note_agent_reply(conversation_id=conversation.pk, author_id=message.author_id, at=now)
                publish_message_created(
                    application_id=conversation.application_id,
                    conversation_id=conversation.pk,
                    message_id=message.pk,
                )
                # After the reply's own event: its bubble, then the line that says who it went to.
                _assign_on_first_reply(conversation=conversation, author=author)
    except IntegrityError:
        # Two submissions of one form raced: the other one stored it first.
        existing = _existing_reply(key, conversation)
        if existing is None:
            raise
        return existing
    return message


def _assign_on_first_reply(*, conversation: Conversation, author: Any) -> None:
    """An unassigned conversation goes to the agent who replies (the Application's setting, on by
    default), with an activity line. One conditional UPDATE: of two agents replying at once, the first
    to commit keeps it, and a conversation someone assigned meanwhile is left alone."""
    if not getattr(author, "pk", None):
        return
    taken = Conversation.objects.filter(
        pk=conversation.pk, assignee__isnull=True, application__auto_assign_on_reply=True
    ).update(assignee=author)
    if taken:
        conversation.assignee = author
        record_activity(
            conversation=conversation, verb=Activity.AUTO_ASSIGNED, actor=None, target=person_name(author)
        )


# --- one attempt ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendLease:
    """A worker's lease on one reply, its attempt already in flight: what the Hub call needs, no row locked."""

    message_id: int
    attempt_id: int
    number: int
    application_id: int
    conversation_id: int
    channel_kind: str
    hub_channel_id: str
    to: str
    content: dict[str, Any]
    api_key: str = field(repr=False)
    # The stored API key could not be decrypted: the attempt is recorded as an internal error and retried.
    key_error: str = ""


@dataclass(frozen=True)
class SendOutcome:
    """What the Hub answered one attempt: a result, or the error (transport or HTTP) it ended with."""

    lease: SendLease
    result: SendResult | None
    error: HubError | None


@dataclass(frozen=True)
class SendStep:
    """One turn of the worker: what became of the answers it stored, and the attempts it started."""

    outcomes: list[str]  # "sent", "failed", "retry", "skipped": per stored answer or reply failed at lease
    leases: list[SendLease]  # in flight now: call the Hub for each, then hand the outcome to the next step


def _locked_reply_by_id(message_id: int) -> Message | None:
    # of=("self",): lock the reply only, not the channel/conversation rows the join reads. The API key is
    # left out: storing an answer needs none, and one that cannot be decrypted must not stop the storing.
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("channel__application", "conversation__contact")
        .defer("channel__application__hub_api_key")
        .filter(pk=message_id, direction=OUTBOUND)
        .first()
    )


def _api_key(encrypted: str) -> tuple[str, str]:
    """(key, "") or ("", why not): a wrong FIELD_ENCRYPTION_KEYS is recorded on the attempt and retried."""
    try:
        return decrypt(encrypted), ""
    except ValueError as exc:
        return "", str(exc)


def _fail(message: Message, *, code: str, reason: str, now: datetime, permanent: bool = False) -> None:
    """Mark a reply (locked by the caller) failed with an agent-readable reason, through the status rules.
    `permanent`: the Hub or the channel refused this content itself, so sending it again cannot help."""
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
    message.permanent_failure = permanent and message.status == FAILED
    message.save(update_fields=["locked_until", "next_attempt_at", "permanent_failure"])


def _fail_inactive_channel(message: Message, now: datetime) -> None:
    _fail(
        message,
        code=CHANNEL_INACTIVE,
        reason=f"The channel “{message.channel.display_name}” was deactivated before this reply went out.",
        now=now,
    )


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


def _tables() -> dict[str, str]:
    qn = connection.ops.quote_name
    models = {
        "message": Message,
        "attempt": SendAttempt,
        "change": MessageStatusChange,
        "channel": Channel,
        "application": Application,
        "conversation": Conversation,
        "contact": Contact,
    }
    return {name: qn(model._meta.db_table) for name, model in models.items()}


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _case(column: str, pairs: Sequence[tuple[int, Any]]) -> tuple[str, list[Any]]:
    """`CASE column WHEN id THEN value … END`: one column of a multi-row UPDATE, with its parameters."""
    params: list[Any] = []
    for row_id, value in pairs:
        params += [row_id, value]
    return f"CASE {column} {' '.join(['WHEN %s THEN %s'] * len(pairs))} END", params


def _lease_due(now: datetime, limit: int) -> tuple[list[SendLease], list[str]]:
    """Lease up to `limit` due replies, oldest due first, inside the caller's transaction: each gets a lease
    and an in-flight attempt. Returns the leases, and an outcome per reply failed instead (channel gone).

    Plain SQL, three statements for the whole batch (the claim with everything the Hub call needs, the
    lease, the attempts): building them with the ORM cost the worker more CPU than running them. The
    retry check (`_is_manual`) is a subquery of the claim, so it costs no round trip.
    """
    t = _tables()
    # SKIP LOCKED: workers never wait on each other, each takes different rows. (SQLite has no row locks;
    # its IMMEDIATE transactions, settings.py, make the claims take turns instead.) The replies are picked
    # from their own table first (the `outbox_due` index, LIMIT n), then joined: a backlog of thousands
    # never goes through the joins.
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    claim = f"""
        SELECT m.id, m.attempt_count, m.content, m.conversation_id, ch.application_id, ch.kind,
               ch.hub_channel_id, ch.active, a.hub_api_key, k.external_id,
               EXISTS (
                   SELECT 1 FROM {t["change"]} r WHERE r.message_id = m.id AND r.source = %s AND NOT EXISTS (
                       SELECT 1 FROM {t["attempt"]} s WHERE s.message_id = m.id AND s.started_at >= r.occurred_at
                   )
               )
        FROM {t["message"]} m
        JOIN {t["channel"]} ch ON ch.id = m.channel_id
        JOIN {t["application"]} a ON a.id = ch.application_id
        JOIN {t["conversation"]} c ON c.id = m.conversation_id
        JOIN {t["contact"]} k ON k.id = c.contact_id
        WHERE m.id IN (
            SELECT id FROM {t["message"]}
            WHERE direction = %s AND status = %s AND locked_until IS NULL
              AND (next_attempt_at <= %s OR next_attempt_at IS NULL)
            ORDER BY next_attempt_at, id
            LIMIT %s{lock}
        )
        ORDER BY m.next_attempt_at, m.id
    """
    with connection.cursor() as cursor:
        cursor.execute(claim, ["retry", OUTBOUND, PENDING, _db_time(now), limit])
        rows = cursor.fetchall()
    if not rows:
        return [], []
    failed: list[str] = []
    claimed = []
    for row in rows:
        if row[7]:
            claimed.append(row)
            continue
        message = _locked_reply_by_id(row[0])  # rare: through the status rules, with the ORM
        if message is not None:
            _fail_inactive_channel(message, now)
            failed.append("failed")
    if not claimed:
        return [], failed

    ids = [row[0] for row in claimed]
    started = _db_time(now)
    locked_until = _db_time(now + timedelta(seconds=lease_seconds()))
    insert_values: list[Any] = []
    for row in claimed:
        insert_values += [row[0], row[1] + 1, started, SendAttempt.Outcome.IN_FLIGHT, bool(row[10])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {t['message']} SET attempt_count = attempt_count + 1, locked_until = %s "
            f"WHERE id IN ({_marks(ids)})",
            [locked_until, *ids],
        )
        cursor.execute(
            f"INSERT INTO {t['attempt']} (message_id, number, started_at, outcome, manual, http_status, "
            "error_code, error_message, hub_request_id, finished_at) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, NULL, '', '', '', NULL)"] * len(claimed))
            + " RETURNING id, message_id",
            insert_values,
        )
        attempt_ids = {message_id: attempt_id for attempt_id, message_id in cursor.fetchall()}

    channel_id_field = Channel._meta.get_field("hub_channel_id")
    leases = []
    for row in claimed:
        message_id, count, content, conversation_id, application_id, kind, hub_channel_id = row[:7]
        api_key, key_error = _api_key(row[8])
        leases.append(
            SendLease(
                message_id=message_id,
                attempt_id=attempt_ids[message_id],
                number=count + 1,
                application_id=application_id,
                conversation_id=conversation_id,
                channel_kind=kind,
                hub_channel_id=str(channel_id_field.to_python(hub_channel_id)),
                to=row[9],
                # JSON text on both backends (Django has psycopg hand jsonb over undecoded).
                content=json.loads(content) if isinstance(content, str) else content,
                api_key=api_key,
                key_error=key_error,
            )
        )
    return leases, failed


def _lease_for_sending(message_id: int) -> SendLease | str:
    now = timezone.now()
    with transaction.atomic():
        message = _locked_reply_by_id(message_id)
        if message is None or message.status != PENDING:
            return "skipped"  # sent, failed or gone: a repeated step is a no-op
        if message.locked_until and message.locked_until > now:
            return "skipped"  # another worker is sending it right now
        if message.next_attempt_at and message.next_attempt_at > now + timedelta(seconds=1):
            return "skipped"  # not due yet: a worker takes it when its time comes
        if not message.channel.active:
            _fail_inactive_channel(message, now)
            return "failed"
        manual = _is_manual(message)
        message.attempt_count += 1
        message.locked_until = now + timedelta(seconds=lease_seconds())
        message.save(update_fields=["attempt_count", "locked_until"])
        attempt = SendAttempt.objects.create(
            message=message, number=message.attempt_count, started_at=now, manual=manual
        )
        with connection.cursor() as cursor:  # as stored: the field would decrypt it, or raise
            cursor.execute(
                f"SELECT hub_api_key FROM {_tables()['application']} WHERE id = %s",
                [message.channel.application_id],
            )
            api_key, key_error = _api_key(cursor.fetchone()[0])
        return SendLease(
            message_id=message.pk,
            attempt_id=attempt.pk,
            number=attempt.number,
            application_id=message.channel.application_id,
            conversation_id=message.conversation_id,
            channel_kind=message.channel.kind,
            hub_channel_id=str(message.channel.hub_channel_id),
            to=message.conversation.contact.external_id,
            content=message.content,
            api_key=api_key,
            key_error=key_error,
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


def send_to_hub(lease: SendLease) -> SendOutcome:
    """The Hub call of one attempt. No database, no transaction: the worker runs it on its sender threads,
    and the Hub may take up to the read timeout while no row stays locked."""
    try:
        if lease.key_error:
            raise ValueError(lease.key_error)
        result = HubClient(api_key=lease.api_key).send_message(
            channel_kind=lease.channel_kind,
            channel_id=lease.hub_channel_id,
            to=lease.to,
            content=lease.content,
        )
    except HubError as exc:
        return SendOutcome(lease, None, exc)
    except Exception as exc:  # e.g. a key that cannot be decrypted: recorded and retried, never lost
        log.exception("sending reply %s failed before the Hub answered", lease.message_id)
        error = HubError(f"internal error while sending: {exc}", permanent=False, kind="internal")
        return SendOutcome(lease, None, error)
    return SendOutcome(lease, result, None)


def _quick_status(outcome: SendOutcome) -> str | None:
    """The status an accepted send moves a reply to, when `_store_accepted` may store it; None otherwise."""
    result = outcome.result
    if result is None or not result.accepted:
        return None
    if result.status in (Message.Status.SENT, Message.Status.ENQUEUED):
        return result.status
    # As do_store_send_result: an unknown status is "sent"; a known later one takes the full status rules.
    return None if result.status in DELIVERY_STATUSES else Message.Status.SENT


def _store_accepted(outcomes: Sequence[SendOutcome], now: datetime) -> set[int]:
    """The common answer, "accepted", for a batch of replies still pending, inside the caller's transaction:
    the Hub id, the status and the cleared lease in one UPDATE, the attempts in a second, the status
    history in one multi-row INSERT. Returns the replies stored; the others (no longer pending) go
    through `_store_outcome`.

    What `do_store_send_result` does for one reply, without its in-transaction look for parked statuses:
    the look after commit (below) sees every status parked before our commit, and a status parked after
    it finds the Hub id itself (statuses.py), so the race stays closed.
    """
    t = _tables()
    at = _db_time(now)
    accepted = {
        o.lease.message_id: (o.lease, o.result, str(_quick_status(o)))
        for o in outcomes
        if o.result is not None
    }
    ids = list(accepted)
    hub_ids, hub_id_params = _case("id", [(m, result.message_id) for m, (_, result, _) in accepted.items()])
    statuses, status_params = _case("id", [(m, status) for m, (_, _, status) in accepted.items()])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {t['message']} SET hub_message_id = {hub_ids}, status = {statuses}, sent_at = %s, "
            "status_changed_at = %s, locked_until = NULL, next_attempt_at = NULL "
            f"WHERE id IN ({_marks(ids)}) AND status = %s RETURNING id",
            [*hub_id_params, *status_params, at, at, *ids, PENDING],
        )
        stored = {row[0] for row in cursor.fetchall()}
        done = [accepted[m] for m in ids if m in stored]
        if not done:
            return stored
        attempts = [lease.attempt_id for lease, _, _ in done]
        http, http_params = _case("id", [(lease.attempt_id, result.http_status) for lease, result, _ in done])
        request, request_params = _case(
            "id", [(lease.attempt_id, result.request_id[:128]) for lease, result, _ in done]
        )
        cursor.execute(
            f"UPDATE {t['attempt']} SET outcome = %s, finished_at = %s, http_status = {http}, "
            f"hub_request_id = {request}, error_code = '', error_message = '' WHERE id IN ({_marks(attempts)})",
            [SendAttempt.Outcome.ACCEPTED, at, *http_params, *request_params, *attempts],
        )
        history: list[Any] = []
        for lease, result, status in done:
            history += [
                lease.application_id,
                lease.message_id,
                result.message_id,
                status,
                at,
                at,
                True,
                "send",
            ]
        cursor.execute(
            f"INSERT INTO {t['change']} (application_id, message_id, hub_message_id, status, occurred_at, "
            "received_at, applied, source, error_code, error_message, raw) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, '', '', NULL)"] * len(done)),
            history,
        )
    for lease, _answer, status in done:
        publish_on_commit(
            {
                "type": "message.status",
                "application_id": lease.application_id,
                "conversation_id": lease.conversation_id,
                "message_id": lease.message_id,
                "status": status,
            }
        )
    parked = [(lease.application_id, str(result.message_id)) for lease, result, _ in done]
    transaction.on_commit(lambda: _apply_parked(parked), robust=True)
    return stored


def _apply_parked(pairs: Sequence[tuple[int, str]]) -> None:
    """After commit: apply the statuses the Hub reported before these replies had their ids. One read for
    the whole batch; almost always it finds none."""
    t = _tables()
    applications = sorted({application_id for application_id, _ in pairs})
    hub_ids = [hub_id for _, hub_id in pairs]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT application_id, hub_message_id FROM {t['change']} WHERE message_id IS NULL "
            f"AND application_id IN ({_marks(applications)}) AND hub_message_id IN ({_marks(hub_ids)})",
            [*applications, *hub_ids],
        )
        found = set(cursor.fetchall())
    for application_id, hub_id in pairs:
        if (application_id, hub_id) in found:
            do_apply_parked_statuses(application_id=application_id, hub_message_id=hub_id)


def _store_outcome(outcome: SendOutcome) -> str:
    """Store any answer for one reply, under its row lock, through the status rules."""
    lease, result, error = outcome.lease, outcome.result, outcome.error
    now = timezone.now()
    with transaction.atomic():
        message = _locked_reply_by_id(lease.message_id)
        attempt = SendAttempt.objects.select_for_update().filter(pk=lease.attempt_id).first()
        if message is None or attempt is None:
            # Deleted while its call was in flight (with its conversation or its Application): there is
            # nothing to store the answer in, and the worker goes on with the others.
            log.info("reply %s was deleted during its Hub call: answer not stored", lease.message_id)
            return "skipped"
        # Still ours unless the sweep took the reply over after our lease expired (we were too slow).
        holder = message.attempt_count == lease.number and message.status == PENDING
        attempt.finished_at = now
        if result is not None:
            attempt.http_status = result.http_status
            attempt.hub_request_id = result.request_id[:128]
        if result is not None and result.accepted:
            if (
                attempt.outcome == SendAttempt.Outcome.ACCEPTED
                and message.hub_message_id == result.message_id
            ):
                return "sent"  # this very answer is stored already (a step repeated after a lost commit)
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
                    permanent=True,
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
                _fail(message, code=_error_code(error), reason=agent_reason(error), now=now, permanent=True)
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


def _store_outcomes(finished: Sequence[SendOutcome], now: datetime) -> list[str]:
    quick: dict[int, SendOutcome] = {}
    for outcome in finished:
        if _quick_status(outcome) is not None:
            quick.setdefault(outcome.lease.message_id, outcome)
    stored = _store_accepted(list(quick.values()), now) if quick else set()
    return [
        "sent" if quick.get(o.lease.message_id) is o and o.lease.message_id in stored else _store_outcome(o)
        for o in finished
    ]


def do_send_step(*, finished: Sequence[SendOutcome] = (), want: int = 0) -> SendStep:
    """The worker's turn, in one transaction: store the Hub's answers to `finished` attempts, then lease up
    to `want` due replies (oldest due first), each with an attempt in flight, for the worker to send.

    Leasing only as many as the worker is about to send (not a larger batch to work through) keeps two
    promises: no lease waits in a queue while its clock runs, and a worker killed mid-send leaves no more
    replies in the at-least-once window than it had calls in flight.
    """
    now = timezone.now()
    # An idle worker polls: a plain indexed read then, not a locking transaction (on SQLite an IMMEDIATE
    # one takes the database's write lock, which a worker polling without pause would hardly let go).
    if not finished and (want <= 0 or not _due(now).exists()):
        return SendStep(outcomes=[], leases=[])
    with transaction.atomic():
        outcomes = _store_outcomes(finished, now) if finished else []
        leases, failed = _lease_due(now, want) if want > 0 else ([], [])
    return SendStep(outcomes=outcomes + failed, leases=leases)


def do_send_next_due() -> str | None:
    """Send the reply due first that no other worker holds, here and now. Returns what happened ("sent",
    "failed", "retry": due again later), or None when no reply is due."""
    step = do_send_step(want=1)
    if not step.leases:
        return step.outcomes[0] if step.outcomes else None
    return do_send_step(finished=[send_to_hub(step.leases[0])]).outcomes[0]


def do_attempt_send(*, message_id: int) -> str:
    """Make one attempt to send this pending reply now. Safe to run twice or concurrently.

    Returns what happened: "sent", "failed", "retry" (due again later) or "skipped" (not pending, not due,
    or another worker holds it).
    """
    lease = _lease_for_sending(message_id)
    if isinstance(lease, str):
        return lease
    return do_send_step(finished=[send_to_hub(lease)]).outcomes[0]


# --- manual retry -----------------------------------------------------------------------------------


class NotRetriable(ContentError):
    """A reply refused for its content: only an edited copy can succeed (bulk retry counts these apart)."""


def do_retry_reply(*, message_id: int, actor: Any) -> Message:
    """Send a failed reply again, for real: back to `pending`, a new (manual) attempt with a fresh budget.

    Every earlier attempt and error stays in the reply's history. The caller has checked that `actor` may
    see the reply's Application. Raises ContentError when the reply is not failed any more (e.g. it was
    delivered meanwhile) or can no longer be sent (channel deactivated, service window closed), and
    NotRetriable (a ContentError) when the Hub refused its content (`permanent_failure`).
    """
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_reply_by_id(message_id)
        if locked is None or locked.status != FAILED:
            raise ContentError(_("Only a failed reply can be sent again."))
        if locked.permanent_failure:
            raise NotRetriable(str(PERMANENT_NOT_RETRIED))
        if not locked.channel.active:
            raise ContentError(
                _("The channel “%(channel)s” is deactivated.") % {"channel": locked.channel.display_name}
            )
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
        locked.permanent_failure = False
        locked.next_attempt_at = now
        locked.locked_until = None
        locked.save(
            update_fields=[
                "status", "status_changed_at", "error_code", "error_message", "permanent_failure",
                "next_attempt_at", "locked_until",
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
