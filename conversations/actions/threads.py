"""What agents do to a conversation itself: assign it, resolve or reopen it, mark it read or unread,
name its contact.

Each action locks the row, changes only what it must (`update_fields`), and publishes
`conversation.updated` after commit, so every open inbox redraws the row and the thread header.
A call that changes nothing publishes nothing.
"""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_app.access import AuthUser, person_name, visible_application_ids
from channels_app.hub.events import clean_text
from conversations.actions.activity import record_activity
from conversations.actions.cycles import note_status_change
from conversations.events import publish_contact_changed, publish_conversation_updated
from conversations.models import Activity, Contact, Conversation


class ThreadActionError(ValueError):
    """The request cannot be done as asked; the message is for the agent."""


# Said alike for an unknown user id, an inactive user and a user of another Application, so assigning
# cannot be used to learn which accounts exist or who works for another tenant.
NOT_ASSIGNABLE = _("That person cannot be assigned this conversation.")


STATUS_ACTIVITY: dict[str, Activity] = {
    Conversation.Status.OPEN: Activity.REOPENED,
    Conversation.Status.RESOLVED: Activity.RESOLVED,
    Conversation.Status.PENDING: Activity.PENDING,
}


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _save(conversation: Conversation, locked: Conversation, fields: list[str]) -> Conversation:
    locked.save(update_fields=fields)
    for name in fields:
        # Keep the caller's (select_related) instance current for rendering.
        setattr(conversation, name, getattr(locked, name))
    publish_conversation_updated(application_id=locked.application_id, conversation_id=locked.pk)
    if "status" in fields:
        publish_linked_panels(application_id=locked.application_id, conversation_id=locked.pk)
    return conversation


def publish_linked_panels(*, application_id: int, conversation_id: int) -> None:
    """This conversation's status changed: the contact panels of the threads linked to its contact (the
    same person on other channels) list it with its status, so they redraw live. One query; none of
    them for a contact linked to no one. Linked contacts are of one Application (actions/contacts.py)."""
    person = Contact.objects.filter(conversation__pk=conversation_id).values("person_id")
    linked = (
        Conversation.objects.filter(contact__person_id=models.Subquery(person[:1]))
        .exclude(pk=conversation_id)
        .values_list("pk", flat=True)
    )
    publish_contact_changed(application_id=application_id, conversation_ids=list(linked))


def do_assign(*, conversation: Conversation, assignee: AuthUser | None, actor: AuthUser) -> Conversation:
    """Give the conversation to `assignee` (None: unassign). The assignee must be able to see it."""
    if assignee is not None and (
        not assignee.is_active or conversation.application_id not in visible_application_ids(assignee)
    ):
        raise ThreadActionError(NOT_ASSIGNABLE)
    with transaction.atomic():
        locked = _locked(conversation)
        new_id = assignee.pk if assignee is not None else None
        if locked.assignee_id == new_id:
            return conversation
        previous = locked.assignee
        locked.assignee = assignee
        if assignee is not None:
            record_activity(
                conversation=locked, verb=Activity.ASSIGNED, actor=actor, target=person_name(assignee)
            )
        else:
            record_activity(
                conversation=locked, verb=Activity.UNASSIGNED, actor=actor, target=person_name(previous)
            )
        return _save(conversation, locked, ["assignee"])


def do_set_status(*, conversation: Conversation, status: str, actor: AuthUser) -> Conversation:
    """Resolve, reopen or park (pending) a conversation; leaving "snoozed" forgets its wake-up time.
    Snoozing needs a time: `do_snooze` (actions/snooze.py)."""
    if status not in Conversation.Status.values or status == Conversation.Status.SNOOZED:
        raise ThreadActionError(f"Unknown status {status!r}.")
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status == status:
            return conversation
        # Reopening a snoozed conversation by hand is waking it ("Alice woke this up").
        woke = locked.status == Conversation.Status.SNOOZED and status == Conversation.Status.OPEN
        verb = Activity.WOKE if woke else STATUS_ACTIVITY[status]
        old, now = locked.status, timezone.now()
        locked.status = status
        locked.snoozed_until = None
        locked.status_changed_at = now
        locked.status_changed_by = actor
        note_status_change(conversation=locked, old=old, actor_id=actor.pk, at=now)
        record_activity(conversation=locked, verb=verb, actor=actor)
        return _save(
            conversation,
            locked,
            ["status", "snoozed_until", "status_changed_at", "status_changed_by", "open_cycle"],
        )


def do_mark_read(*, conversation: Conversation, actor: AuthUser) -> Conversation:
    """The agent has seen every message: the unread badge goes away for everyone."""
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.unread_count == 0:
            conversation.unread_count = 0
            return conversation
        locked.unread_count = 0
        return _save(conversation, locked, ["unread_count"])


def do_mark_unread(*, conversation: Conversation, actor: AuthUser) -> Conversation:
    """Flag the conversation for later: it keeps its count if it has one, else shows 1."""
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.unread_count > 0:
            conversation.unread_count = locked.unread_count
            return conversation
        locked.unread_count = 1
        return _save(conversation, locked, ["unread_count"])


def do_rename_contact(*, conversation: Conversation, display_name: str, actor: AuthUser) -> Conversation:
    """Name the customer of this conversation (the Hub sends no names: agents learn them in the chat).

    An empty name shows the channel id again. The row and header redraw live in every open inbox.
    """
    name = " ".join(clean_text(display_name).split())
    limit = Contact._meta.get_field("display_name").max_length
    if limit is not None and len(name) > limit:
        raise ThreadActionError(f"A name has at most {limit} characters.")
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=conversation.contact_id)
        if contact.display_name == name:
            return conversation
        contact.display_name = name
        contact.save(update_fields=["display_name"])
        conversation.contact = contact
        # A contact has one conversation (Conversation.contact is one-to-one): its row and header redraw,
        # and its panel (which names the contact). Linked contacts' rows, headers and panels show their
        # own names and channel ids, never this one's: nothing of theirs changes.
        publish_conversation_updated(
            application_id=conversation.application_id, conversation_id=conversation.pk
        )
        publish_contact_changed(
            application_id=conversation.application_id, conversation_ids=[conversation.pk]
        )
    return conversation
