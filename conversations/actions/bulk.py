"""One action over many conversations (the inbox's selected rows): each conversation is changed by the
same action as from its thread, in a transaction of its own with one audit entry, and publishes its own
live update; a conversation the agent may not see is left alone and reported as not found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from channels_app.access import AuthUser, visible_application_ids
from channels_app.audit import record
from conversations.actions.snooze import do_snooze
from conversations.actions.threads import (
    ThreadActionError,
    do_assign,
    do_mark_read,
    do_mark_unread,
    do_set_status,
)
from conversations.models import Conversation

BULK_ACTIONS = ("assign", "resolve", "reopen", "pending", "snooze", "mark_read", "mark_unread")
# More than a page of loaded rows is never selected; beyond this the request is refused whole.
BULK_LIMIT = 500


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    not_found: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # id: why, in a sentence


def _one(
    action: str,
    conversation: Conversation,
    *,
    actor: AuthUser,
    assignee: AuthUser | None,
    until: datetime | None,
) -> Callable[[], Conversation]:
    if action == "assign":
        return lambda: do_assign(conversation=conversation, assignee=assignee, actor=actor)
    if action in ("resolve", "reopen", "pending"):
        status = {"resolve": "resolved", "reopen": "open", "pending": "pending"}[action]
        return lambda: do_set_status(conversation=conversation, status=status, actor=actor)
    if action == "snooze":
        assert until is not None
        return lambda: do_snooze(conversation=conversation, until=until, actor=actor)
    if action == "mark_read":
        return lambda: do_mark_read(conversation=conversation, actor=actor)
    return lambda: do_mark_unread(conversation=conversation, actor=actor)


def do_bulk_action(
    *,
    conversation_ids: Sequence[int],
    action: str,
    actor: AuthUser,
    assignee: AuthUser | None = None,
    until: datetime | None = None,
) -> BulkResult:
    """Apply `action` to each conversation the actor may see; the others are `not_found` (as a 404
    would say: nothing tells them apart from ids that do not exist)."""
    if action not in BULK_ACTIONS:
        raise ThreadActionError(f"Unknown action {action!r}.")
    if action == "snooze" and until is None:
        raise ThreadActionError("Choose when the conversations come back.")
    ids = list(dict.fromkeys(conversation_ids))[:BULK_LIMIT]
    visible = Conversation.objects.filter(
        pk__in=ids, application_id__in=list(visible_application_ids(actor))
    ).select_related("application")
    by_id = {c.pk: c for c in visible}
    result = BulkResult()
    for pk in ids:
        conversation = by_id.get(pk)
        if conversation is None:
            result.not_found.append(pk)
            continue
        before = {"status": conversation.status, "assignee": conversation.assignee_id}
        try:
            with transaction.atomic():
                changed = _one(action, conversation, actor=actor, assignee=assignee, until=until)()
                record(
                    actor=actor,
                    action=f"conversation.bulk_{action}",
                    application=conversation.application,
                    target=conversation,
                    changes={
                        "status": {"from": before["status"], "to": changed.status},
                        "assignee": {"from": before["assignee"], "to": changed.assignee_id},
                    },
                )
        except ThreadActionError as error:
            result.refused[pk] = str(error)
            continue
        result.done.append(pk)
    return result
