"""One action over many conversations (the inbox's selected rows): each conversation is changed by the
same action as from its thread, in a transaction of its own with one audit entry, and publishes its own
live update; a conversation the agent may not see is left alone and reported as not found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from channels_app.access import AuthUser, visible_application_ids
from channels_app.audit import record
from conversations.actions.labels import do_set_label
from conversations.actions.snooze import do_snooze
from conversations.actions.threads import (
    ThreadActionError,
    do_assign,
    do_mark_read,
    do_mark_unread,
    do_set_status,
)
from conversations.models import Conversation, Label

BULK_ACTIONS = (
    *("assign", "resolve", "reopen", "pending", "snooze", "mark_read", "mark_unread"),
    *("label_add", "label_remove"),
)
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
    label: Label | None,
) -> Callable[[], Conversation]:
    if action in ("label_add", "label_remove"):
        assert label is not None
        on = action == "label_add"
        return lambda: do_set_label(conversation=conversation, label=label, on=on, actor=actor)
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
    label: Label | None = None,
) -> BulkResult:
    """Apply `action` to each conversation the actor may see; the others are `not_found` (as a 404
    would say: nothing tells them apart from ids that do not exist). `label` (label_add/label_remove,
    one of a visible Application's labels) goes only on that Application's conversations: the others
    are refused, as do_set_label says."""
    if action not in BULK_ACTIONS:
        raise ThreadActionError(f"Unknown action {action!r}.")
    if action == "snooze" and until is None:
        raise ThreadActionError("Choose when the conversations come back.")
    if action in ("label_add", "label_remove") and (
        label is None or label.application_id not in set(visible_application_ids(actor))
    ):
        raise ThreadActionError(_("Choose a label."))
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
        if label is not None and action in ("label_add", "label_remove"):
            was_on = conversation.labels.filter(pk=label.pk).exists()
            on = action == "label_add"
            label_change = {
                "label": {"from": label.name if was_on else None, "to": label.name if on else None}
            }
        else:
            label_change = {}
        try:
            with transaction.atomic():
                changed = _one(
                    action, conversation, actor=actor, assignee=assignee, until=until, label=label
                )()
                record(
                    actor=actor,
                    action=f"conversation.bulk_{action}",
                    application=conversation.application,
                    target=conversation,
                    changes={
                        "status": {"from": before["status"], "to": changed.status},
                        "assignee": {"from": before["assignee"], "to": changed.assignee_id},
                        **label_change,
                    },
                )
        except ThreadActionError as error:
            result.refused[pk] = str(error)
            continue
        result.done.append(pk)
    return result
