"""A conversation's cycles (ConversationCycle), kept by the actions that change them, in their transaction.

A cycle opens when a conversation is created or reopened (by the customer writing to a resolved
conversation, or by an agent); the customer's first message in it starts the first-response clock
(with the Application's service level, its due time); the first agent reply after that stops it; the
resolution closes the cycle. The reports count these rows instead of scanning the messages.
"""

from __future__ import annotations

from datetime import datetime

from channels_app.service_levels import due_at, schedule_for
from conversations.models import Conversation, ConversationCycle


def note_customer_message(*, conversation_id: int, at: datetime) -> str:
    """The customer wrote: start the first-response clock of the current cycle, opening one if needed.

    Called in the inbound message's transaction, before its counters reopen a resolved conversation.
    Returns the conversation's status, read under its row lock (what the customer's message found).
    """
    conversation = (
        Conversation.objects.select_for_update()
        .only("id", "status", "application_id", "channel_id", "open_cycle_id")
        .get(pk=conversation_id)
    )
    if conversation.open_cycle_id is not None:
        return conversation.status
    schedule = schedule_for(conversation.application_id)
    due = due_at(schedule, at) if schedule else None
    # Reopened by an agent and waiting for the customer: the clock of that cycle starts now.
    cycle = ConversationCycle.objects.filter(
        conversation_id=conversation_id, resolved_at__isnull=True
    ).first()
    if cycle is not None:
        cycle.customer_at, cycle.first_response_due_at = at, due
        cycle.save(update_fields=["customer_at", "first_response_due_at"])
    else:
        reopened = (
            conversation.status == Conversation.Status.RESOLVED
            or ConversationCycle.objects.filter(conversation_id=conversation_id).exists()
        )
        cycle = ConversationCycle.objects.create(
            application_id=conversation.application_id,
            channel_id=conversation.channel_id,
            conversation_id=conversation_id,
            opened_at=at,
            reopened=reopened,
            customer_at=at,
            first_response_due_at=due,
        )
    Conversation.objects.filter(pk=conversation_id).update(open_cycle=cycle)
    return conversation.status


def note_agent_reply(*, conversation_id: int, author_id: int | None, at: datetime) -> None:
    """An agent replied: the first reply after the customer's first message of the cycle answers it."""
    if author_id is None:
        return
    ConversationCycle.objects.filter(
        conversation_id=conversation_id,
        resolved_at__isnull=True,
        customer_at__isnull=False,
        first_response_at__isnull=True,
    ).update(first_response_at=at, first_responder_id=author_id)


def note_status_change(*, conversation: Conversation, old: str, actor_id: int, at: datetime) -> None:
    """Resolving closes the current cycle; reopening a resolved conversation starts the next one, whose
    clock waits for the customer. `conversation` is the locked row, already given its new status; its
    `open_cycle` is changed here and saved by the caller."""
    resolved = Conversation.Status.RESOLVED
    if conversation.status == resolved:
        ConversationCycle.objects.filter(conversation_id=conversation.pk, resolved_at__isnull=True).update(
            resolved_at=at, resolved_by_id=actor_id
        )
        conversation.open_cycle = None
    elif old == resolved:
        ConversationCycle.objects.create(
            application_id=conversation.application_id,
            channel_id=conversation.channel_id,
            conversation=conversation,
            opened_at=at,
            reopened=True,
        )
        conversation.open_cycle = None
