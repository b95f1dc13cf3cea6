"""A reply's delivery status: it only moves forward, and every report is kept in its history.

Order: pending < enqueued < sent < delivered < read. `failed` applies while the reply has not been
delivered; a later `delivered`/`read` still wins over `failed`, since it is proof the customer got it
(providers do report a transient failure and then deliver). Inbound messages have no delivery status.

A status can arrive before we know the message it belongs to: the Hub may post `MessageStatus` before
our send call has returned and stored the `messageId`. Such a status is parked (a change with no message)
and applied the moment the id is stored. Both sides look for the other again after they commit, so the
race where each transaction misses the other's uncommitted row cannot lose the status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from conversations.events import publish_on_commit
from conversations.models import STATUS_RANK, Message, MessageStatusChange

DELIVERY_STATUSES = frozenset({"enqueued", "sent", "delivered", "read", "failed"})


def status_moves(current: str, new: str) -> bool:
    """Whether a report of `new` moves a reply that is now `current`."""
    if new == Message.Status.FAILED:
        return current in (Message.Status.PENDING, Message.Status.ENQUEUED, Message.Status.SENT)
    if current == Message.Status.FAILED:
        return new in (Message.Status.DELIVERED, Message.Status.READ)
    return STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, -1)


def apply_status_change(message: Message, change: MessageStatusChange) -> bool:
    """Apply `change` to `message` (locked by the caller). Returns whether the status moved."""
    if not status_moves(message.status, change.status):
        return False
    message.status = change.status
    message.status_changed_at = change.occurred_at
    fields = ["status", "status_changed_at"]
    if change.status == Message.Status.FAILED:
        message.error_code = change.error_code
        message.error_message = change.error_message
        fields += ["error_code", "error_message"]
    elif change.status in (Message.Status.DELIVERED, Message.Status.READ) and message.error_code:
        message.error_code = ""
        message.error_message = ""
        fields += ["error_code", "error_message"]
    message.save(update_fields=fields)
    change.applied = True
    publish_status_on_commit(message)
    return True


def publish_status_on_commit(message: Message) -> None:
    """The `message.status` event for a reply whose status just changed (sent after commit)."""
    publish_on_commit(
        {
            "type": "message.status",
            "application_id": message.channel.application_id,
            "conversation_id": message.conversation_id,
            "message_id": message.pk,
            "status": message.status,
        }
    )


def _locked_reply_by_hub_id(*, application_id: int, hub_message_id: str) -> Message | None:
    return (
        Message.objects.select_for_update()
        .select_related("channel")
        .filter(
            channel__application_id=application_id,
            hub_message_id=hub_message_id,
            direction=Message.Direction.OUTBOUND,
        )
        .first()
    )


def do_record_status(
    *,
    application_id: int,
    hub_message_id: str,
    status: str,
    occurred_at: datetime | None = None,
    error_code: str = "",
    error_message: str = "",
    raw: Any = None,
    source: str = "webhook",
) -> MessageStatusChange:
    """Record a status report for the reply the Hub knows as `hub_message_id` (parked if unknown yet)."""
    if status not in DELIVERY_STATUSES:
        raise ValueError(f"unknown delivery status {status!r}")
    with transaction.atomic():
        message = _locked_reply_by_hub_id(application_id=application_id, hub_message_id=hub_message_id)
        change = MessageStatusChange(
            application_id=application_id,
            message=message,
            hub_message_id=hub_message_id,
            status=status,
            error_code=error_code[:64],
            error_message=error_message,
            occurred_at=occurred_at or timezone.now(),
            source=source,
            raw=raw,
        )
        if message is not None:
            apply_status_change(message, change)
        change.save()
    if message is None:
        # The reply may have been given this id by a transaction that committed meanwhile.
        transaction.on_commit(
            lambda: do_apply_parked_statuses(application_id=application_id, hub_message_id=hub_message_id)
        )
    return change


def do_apply_parked_statuses(*, application_id: int, hub_message_id: str) -> int:
    """Attach and apply statuses that arrived before the reply had its Hub id. Returns how many."""
    parked_rows = MessageStatusChange.objects.filter(
        application_id=application_id, hub_message_id=hub_message_id, message__isnull=True
    )
    # Almost always there are none: one indexed read then, instead of locking the reply. A status parked
    # after this read runs this function itself once it commits (do_record_status), so none is missed.
    if not parked_rows.exists():
        return 0
    applied = 0
    with transaction.atomic():
        message = _locked_reply_by_hub_id(application_id=application_id, hub_message_id=hub_message_id)
        if message is None:
            return 0
        parked = list(parked_rows.select_for_update().order_by("occurred_at", "id"))
        for change in parked:
            change.message = message
            apply_status_change(message, change)
            change.save(update_fields=["message", "applied"])
            applied += 1
    return applied


def do_store_send_result(
    *,
    message: Message,
    hub_message_id: str,
    status: str,
    occurred_at: datetime | None = None,
    raw: Any = None,
) -> None:
    """Give a reply (locked by the caller, inside its transaction) its Hub id and the send's status,
    then apply any status that was parked for that id."""
    message.hub_message_id = hub_message_id
    message.sent_at = occurred_at or timezone.now()
    message.save(update_fields=["hub_message_id", "sent_at"])
    change = MessageStatusChange(
        application_id=message.channel.application_id,
        message=message,
        hub_message_id=hub_message_id,
        status=status if status in DELIVERY_STATUSES else Message.Status.SENT,
        occurred_at=message.sent_at,
        source="send",
        raw=raw,
    )
    apply_status_change(message, change)
    change.save()
    application_id = message.channel.application_id
    do_apply_parked_statuses(application_id=application_id, hub_message_id=hub_message_id)
    # And once more after commit, for a status parked by a transaction that had not committed yet.
    transaction.on_commit(
        lambda: do_apply_parked_statuses(application_id=application_id, hub_message_id=hub_message_id)
    )
