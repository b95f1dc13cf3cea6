"""What agents record about a customer: notes, and links between the customer's contacts on several
channels (the same person on WhatsApp and Instagram).

Linking only groups contacts under one `Person`: no message or conversation moves, and unlinking takes a
contact out of its group again. Each change is one audit entry, in the transaction that makes it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from channels_app.access import AuthUser
from channels_app.audit import record
from channels_app.hub.events import clean_text
from conversations.actions.threads import ThreadActionError
from conversations.events import publish_contact_changed
from conversations.models import Contact, Conversation, Person

LINK_TO_ITSELF = _("A contact cannot be linked to itself.")
LINK_ACROSS_APPLICATIONS = _("Only contacts of the same Application can be linked.")
NOTES_LIMIT = 5000


def _locked(contact: Contact) -> Contact:
    return Contact.objects.select_for_update().select_related("channel").get(pk=contact.pk)


def _audit(actor: AuthUser, action: str, contact: Contact, changes: dict[str, object]) -> None:
    record(
        actor=actor,
        action=action,
        application=contact.channel.application,
        target=contact,
        target_repr=f"{contact.label} ({contact.channel.display_name})",
        changes=changes,
    )


def _publish_panels(application_id: int, contact_ids: list[int]) -> None:
    """The panels of these contacts' conversations redraw live in the tabs that have them open."""
    conversation_ids = list(
        Conversation.objects.filter(contact_id__in=contact_ids).values_list("pk", flat=True)
    )
    publish_contact_changed(application_id=application_id, conversation_ids=conversation_ids)


def do_link_contacts(*, contact: Contact, other: Contact, actor: AuthUser) -> Person:
    """Link `other` (and whoever it is linked to) with `contact`: one person from then on."""
    if contact.pk == other.pk:
        raise ThreadActionError(LINK_TO_ITSELF)
    with transaction.atomic():
        # Locked in id order, so two agents linking the same pair both ways cannot deadlock.
        first, second = sorted([contact, other], key=lambda c: c.pk)
        locked = {c.pk: _locked(c) for c in (first, second)}
        mine, theirs = locked[contact.pk], locked[other.pk]
        if mine.channel.application_id != theirs.channel.application_id:
            raise ThreadActionError(LINK_ACROSS_APPLICATIONS)
        if mine.person_id is not None and mine.person_id == theirs.person_id:
            return Person.objects.get(pk=mine.person_id)
        person = (
            Person.objects.get(pk=mine.person_id)
            if mine.person_id
            else Person.objects.create(application_id=mine.channel.application_id)
        )
        if mine.person_id is None:
            mine.person = person
            mine.save(update_fields=["person"])
        # Everyone linked to `other` joins too: a person is never split by a link.
        joining = (
            list(Contact.objects.select_for_update().filter(person_id=theirs.person_id))
            if theirs.person_id
            else [theirs]
        )
        old_person = theirs.person_id
        for joiner in joining:
            joiner.person = person
            joiner.save(update_fields=["person"])
        if old_person:
            Person.objects.filter(pk=old_person).delete()
        _audit(actor, "contact.linked", mine, {"linked": {"from": None, "to": f"contact {theirs.pk}"}})
        # Every panel of the person lists the others: all of them change (those that joined, too).
        members = list(Contact.objects.filter(person=person).values_list("pk", flat=True))
        _publish_panels(mine.channel.application_id, members)
        return person


def do_unlink_contact(*, contact: Contact, actor: AuthUser) -> None:
    """Take the contact out of its person; a person left with one contact is dissolved."""
    with transaction.atomic():
        locked = _locked(contact)
        person_id = locked.person_id
        if person_id is None:
            return
        locked.person = None
        locked.save(update_fields=["person"])
        remaining = list(Contact.objects.select_for_update().filter(person_id=person_id))
        if len(remaining) <= 1:
            Contact.objects.filter(person_id=person_id).update(person=None)
            Person.objects.filter(pk=person_id).delete()
        _audit(actor, "contact.unlinked", locked, {"person": {"from": person_id, "to": None}})
        # Its own panel loses the others, and theirs lose it.
        _publish_panels(locked.channel.application_id, [locked.pk, *(c.pk for c in remaining)])


def do_save_contact_notes(*, contact: Contact, notes: str, actor: AuthUser) -> Contact:
    text = clean_text(notes).strip()
    if len(text) > NOTES_LIMIT:
        raise ThreadActionError(_("Notes have at most %(limit)d characters.") % {"limit": NOTES_LIMIT})
    with transaction.atomic():
        locked = _locked(contact)
        if locked.notes == text:
            return locked
        before = locked.notes
        locked.notes = text
        locked.save(update_fields=["notes"])
        _audit(actor, "contact.notes_changed", locked, {"notes": {"from": before, "to": text}})
        # A contact's notes are shown in its own panel only (linked contacts keep their own).
        _publish_panels(locked.channel.application_id, [locked.pk])
    return locked
