"""Labels: an Application's admins define them (audit-logged); agents put them on conversations and take
them off (an activity line each, and the row and header redrawn in every tab)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.hub.events import clean_text
from channels_app.models import Application
from conversations.actions.activity import record_activity
from conversations.actions.threads import ThreadActionError
from conversations.events import publish_conversation_updated
from conversations.models import Activity, Conversation, Label

LABEL_FIELDS = ["name", "colour"]


class LabelError(ThreadActionError):
    """A label cannot be saved or used as asked; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _clean_name(name: str) -> str:
    cleaned = " ".join(clean_text(name).split())
    if not cleaned:
        raise LabelError(_("A label needs a name."), field="name")
    limit = Label._meta.get_field("name").max_length or 40
    if len(cleaned) > limit:
        raise LabelError(
            _("A label's name has at most %(limit)s characters.") % {"limit": limit}, field="name"
        )
    return cleaned


def _clean_colour(colour: str) -> str:
    if colour not in dict(Label.COLOURS):
        raise LabelError(_("Choose one of the colours offered."), field="colour")
    return colour


def _save(label: Label, *, update_fields: list[str] | None = None) -> None:
    duplicate = Label.objects.filter(application_id=label.application_id, name__iexact=label.name)
    if label.pk:
        duplicate = duplicate.exclude(pk=label.pk)
    if duplicate.exists():
        raise LabelError(_("This Application already has a label with that name."), field="name")
    try:
        with transaction.atomic():
            label.save(update_fields=update_fields)
    except IntegrityError:  # the same name saved by someone else meanwhile
        raise LabelError(_("This Application already has a label with that name."), field="name") from None


def do_create_label(*, actor: AuthUser, application: Application, name: str, colour: str) -> Label:
    label = Label(application=application, name=_clean_name(name), colour=_clean_colour(colour))
    with transaction.atomic():
        _save(label)
        audit.record(
            actor=actor,
            action="label.created",
            application=application,
            target=label,
            changes=audit.diff({}, audit.snapshot(label, LABEL_FIELDS)),
        )
    return label


def do_update_label(*, actor: AuthUser, label: Label, name: str, colour: str) -> Label:
    before = audit.snapshot(label, LABEL_FIELDS)
    label.name, label.colour = _clean_name(name), _clean_colour(colour)
    changes = audit.diff(before, audit.snapshot(label, LABEL_FIELDS))
    if not changes:
        return label
    with transaction.atomic():
        _save(label, update_fields=LABEL_FIELDS)
        audit.record(
            actor=actor, action="label.changed", application=label.application, target=label, changes=changes
        )
    return label


def do_delete_label(*, actor: AuthUser, label: Label) -> None:
    """Remove the label from the Application and from every conversation that had it."""
    audit.delete_recorded(
        actor=actor, action="label.deleted", obj=label, fields=LABEL_FIELDS, application=label.application
    )


def do_set_label(
    *, conversation: Conversation, label: Label, on: bool, actor: AuthUser | None
) -> Conversation:
    """Put `label` on the conversation (`on`) or take it off. A label of another Application is refused;
    a call that changes nothing records and publishes nothing."""
    if label.application_id != conversation.application_id:
        raise LabelError(_("That label belongs to another Application."), field="label")
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()  # one change at a time
        through = Conversation.labels.through.objects.filter(
            conversation_id=conversation.pk, label_id=label.pk
        )
        if through.exists() == on:
            return conversation
        if on:
            conversation.labels.add(label)
        else:
            through.delete()
        record_activity(
            conversation=conversation,
            verb=Activity.LABEL_ADDED if on else Activity.LABEL_REMOVED,
            actor=actor,
            target=label.name,
        )
        publish_conversation_updated(
            application_id=conversation.application_id, conversation_id=conversation.pk
        )
    return conversation


def do_set_labels(*, conversation: Conversation, label_ids: list[int], actor: AuthUser | None) -> list[Label]:
    """Make the conversation's labels exactly these (ids of its Application's labels): each label put on
    or taken off is an activity line. An id that is not one of the Application's labels refuses the
    whole call, with nothing changed."""
    wanted = set(label_ids)
    labels = {label.pk: label for label in Label.objects.filter(application_id=conversation.application_id)}
    unknown = sorted(wanted - set(labels))
    if unknown:
        raise LabelError(
            _("No such label in this Application: %(ids)s.") % {"ids": ", ".join(str(i) for i in unknown)},
            field="label_ids",
        )
    with transaction.atomic():
        current = set(conversation.labels.values_list("pk", flat=True))
        for label_id in sorted(current ^ wanted):
            do_set_label(
                conversation=conversation, label=labels[label_id], on=label_id in wanted, actor=actor
            )
    return sorted((labels[i] for i in wanted), key=lambda label: (label.name, label.pk))
