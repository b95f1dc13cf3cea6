"""Snoozing: a conversation leaves the open views until a time, then comes back by itself.

It comes back when the worker's wake-up pass finds it due (`do_wake_due_snoozes`), or at once when the
customer writes (the inbound counters' UPDATE reopens a snoozed thread as it reopens a resolved one:
conversations/actions/inbound.py). Both reopen it as "open", by nobody. Snoozing and the worker's wake-up
each leave an activity line in the thread (actions/activity.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_app.access import AuthUser
from conversations.actions.activity import record_activity
from conversations.actions.threads import ThreadActionError, _locked, _save
from conversations.models import Activity, Conversation

SNOOZE_IN_THE_PAST = _("Choose a time in the future to snooze until.")
SNOOZE_RESOLVED = _("A resolved conversation cannot be snoozed: reopen it first.")
# The wake-up pass takes this many at a time, so one pass never holds many row locks at once.
WAKE_BATCH = 100


def do_snooze(*, conversation: Conversation, until: datetime, actor: AuthUser) -> Conversation:
    """Snooze until `until` (a future time). Snoozing again moves the time; a resolved one is refused."""
    if until <= timezone.now():
        raise ThreadActionError(SNOOZE_IN_THE_PAST)
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status == Conversation.Status.RESOLVED:
            raise ThreadActionError(SNOOZE_RESOLVED)
        if locked.status == Conversation.Status.SNOOZED and locked.snoozed_until == until:
            return conversation
        locked.status = Conversation.Status.SNOOZED
        locked.snoozed_until = until
        locked.status_changed_at = timezone.now()
        locked.status_changed_by = actor
        record_activity(conversation=locked, verb=Activity.SNOOZED, actor=actor, until=until)
        return _save(
            conversation, locked, ["status", "snoozed_until", "status_changed_at", "status_changed_by"]
        )


def do_wake_due_snoozes(*, now: datetime | None = None) -> list[int]:
    """Reopen the snoozed conversations whose time has come; returns their ids.

    `SKIP LOCKED` lets several workers run this together without waking one twice or waiting on each
    other (SQLite ignores it: one writer at a time there anyway).
    """
    now = now or timezone.now()
    woken: list[int] = []
    while True:
        with transaction.atomic():
            due = list(
                Conversation.objects.select_for_update(skip_locked=True)
                .filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
                .order_by("snoozed_until", "id")[:WAKE_BATCH]
            )
            for locked in due:
                locked.status = Conversation.Status.OPEN
                locked.snoozed_until = None
                locked.status_changed_at = now
                locked.status_changed_by = None
                record_activity(conversation=locked, verb=Activity.WOKE, actor=None)  # "The snooze ended"
                _save(locked, locked, ["status", "snoozed_until", "status_changed_at", "status_changed_by"])
                woken.append(locked.pk)
        if len(due) < WAKE_BATCH:
            return woken
