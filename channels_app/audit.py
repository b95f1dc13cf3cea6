"""The audit log's vocabulary: snapshots of what an admin changed, with secrets replaced before storing.

Actions (channels_app/actions.py) call `record()` inside their own transaction, so an entry exists
exactly when the change it describes was committed. Entries store identifiers (action codes, field
names, "changed"); `shown()` words them in the reader's language when the page is drawn, so an entry
reads in whatever language its reader has, and the stored log never changes with a translation.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from channels_app.access import AuthUser
from channels_app.crypto import last4
from channels_app.models import Application, AuditEntry

Actor = AuthUser | AnonymousUser | None

# What a signing secret becomes in an entry: its value, even masked, is nobody's business.
CHANGED = "changed"

_ = gettext_lazy

# What each action code means, for the audit log page. `record()` refuses a code missing here, so every
# entry can be worded (tests/settings/test_audit_labels.py checks the codes the source records, and that
# each label is translated); only an entry stored before a code was renamed is shown as stored.
ACTION_LABELS: dict[str, Promise] = {
    "application.created": _("Application created"),
    "application.updated": _("Application changed"),
    "application.key_replaced": _("Hub API key replaced"),
    "application.service_level": _("First-response target changed"),
    "webhooks.connected": _("Webhooks connected"),
    "webhooks.unsigned_accepted": _("Unsigned events accepted"),
    "webhooks.unsigned_refused": _("Unsigned events refused"),
    "webhook_logs.retried": _("Deliveries re-sent from the Hub's logs"),
    "deliveries.recovered": _("Failed deliveries recovered"),
    "channel.registered": _("Channel registered"),
    "channel.updated": _("Channel renamed"),
    "channel.deactivated": _("Channel deactivated"),
    "channel.reactivated": _("Channel reactivated"),
    "template.added": _("WhatsApp template added"),
    "template.deleted": _("WhatsApp template removed"),
    "preferences.updated": _("Preferences changed"),
    "preferences.time_zone_from_browser": _("Time zone taken from the browser"),
    "preferences.notifications_updated": _("Notifications changed"),
    "user.created": _("User created"),
    "user.deactivated": _("User deactivated"),
    "user.reactivated": _("User reactivated"),
    "membership.granted": _("Access granted"),
    "membership.changed": _("Role changed"),
    "membership.revoked": _("Access removed"),
    "label.created": _("Label created"),
    "label.changed": _("Label changed"),
    "label.deleted": _("Label deleted"),
    "canned_reply.created": _("Canned reply created"),
    "canned_reply.changed": _("Canned reply changed"),
    "canned_reply.deleted": _("Canned reply deleted"),
    "contact.linked": _("Contacts linked"),
    "contact.unlinked": _("Contact unlinked"),
    "contact.notes_changed": _("Contact notes changed"),
    # conversations/actions/bulk.py records `conversation.bulk_<its action>`.
    "conversation.bulk_assign": _("Assigned in bulk"),
    "conversation.bulk_resolve": _("Resolved in bulk"),
    "conversation.bulk_reopen": _("Reopened in bulk"),
    "conversation.bulk_pending": _("Set pending in bulk"),
    "conversation.bulk_snooze": _("Snoozed in bulk"),
    "conversation.bulk_mark_read": _("Marked read in bulk"),
    "conversation.bulk_mark_unread": _("Marked unread in bulk"),
    "conversation.bulk_label_add": _("Label added in bulk"),
    "conversation.bulk_label_remove": _("Label removed in bulk"),
    "outgoing_webhook.created": _("Outgoing webhook created"),
    "outgoing_webhook.updated": _("Outgoing webhook changed"),
    "outgoing_webhook.secret_rotated": _("Outgoing webhook's signing secret replaced"),
    "outgoing_webhook.deleted": _("Outgoing webhook removed"),
}

# Whose fields an action's change keys are, by action code or by its prefix. By name rather than by
# import: models of `conversations` sit above this app, and only their field names are read here.
_ACTION_MODELS: dict[str, str] = {
    "application": "channels_app.Application",
    "application.service_level": "channels_app.ServiceLevel",
    "webhooks": "channels_app.Application",
    "webhooks.connected": "channels_app.HubWebhook",
    "channel": "channels_app.Channel",
    "template": "channels_app.WhatsAppTemplate",
    "preferences": "channels_app.UserPreferences",
    "user": settings.AUTH_USER_MODEL,
    "membership": "channels_app.Membership",
    "label": "conversations.Label",
    "canned_reply": "conversations.CannedReply",
    "contact": "conversations.Contact",
    "conversation": "conversations.Conversation",
    "outgoing_webhook": "integrations.WebhookSubscription",
}

# Names of the keys whose field has no verbose_name of its own, and of keys that are no field at all.
KEY_LABELS: dict[str, Promise] = {
    "name": _("Name"),
    "display_name": _("Name"),
    "email": _("Email"),
    "role": _("Role"),
    "active": _("Active"),
    "kind": _("Channel type"),
    "colour": _("Colour"),
    "code": _("Code"),
    "title": _("Title"),
    "body": _("Text"),
    "owner": _("Owner"),
    "notes": _("Notes"),
    "person": _("Person"),
    "linked": _("Linked to"),
    "status": _("Status"),
    "assignee": _("Assignee"),
    "label": _("Label"),
    "hub_id": _("Hub id"),
    "endpoint": _("Endpoint"),
    "is_verified": _("Verified"),
    "signing secret": _("Signing secret"),
    "secret": _("Signing secret"),
    "retried logs": _("Re-sent logs"),
    "not retried": _("Not re-sent"),
    "already re-sent": _("Already re-sent"),
    "re-sent deliveries": _("Re-sent deliveries"),
}


@dataclass(frozen=True)
class ShownChange:
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ShownEntry:
    """An entry as the audit log page shows it, in the active language."""

    entry: AuditEntry
    action: str
    changes: list[ShownChange]


def _model_of(action: str) -> type[models.Model] | None:
    name = _ACTION_MODELS.get(action) or _ACTION_MODELS.get(action.split(".", 1)[0])
    if name is None:
        return None
    try:
        return apps.get_model(name)
    except LookupError:
        return None


def _field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _key_label(field: models.Field[Any, Any] | None, key: str) -> str:
    # `_verbose_name` is what the model gave; `verbose_name` falls back to the field's name.
    if field is not None and getattr(field, "_verbose_name", None):
        return capfirst(str(field.verbose_name))
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    return key


def _value(field: models.Field[Any, Any] | None, value: Any) -> Any:
    if value == CHANGED:
        return gettext("changed")
    if field is not None and field.choices and isinstance(value, str):
        return dict(field.flatchoices).get(value, value)
    return value


def _shown_change(model: type[models.Model] | None, key: str, change: Any) -> ShownChange:
    if not isinstance(change, dict):
        return ShownChange(key, None, change)
    prefix = ""
    if model is not None and model._meta.label == "channels_app.HubWebhook" and " " in key:
        # webhooks.connected keys are "<event type> <field>": the event type is the Hub's name for it.
        prefix, key = key.split(" ", 1)
    field = _field(model, key)
    label = _key_label(field, key)
    return ShownChange(
        f"{prefix} · {label}" if prefix else label,
        _value(field, change.get("from")),
        _value(field, change.get("to")),
    )


def shown(entry: AuditEntry) -> ShownEntry:
    """`entry` worded for its reader: the action's label, each field by its name, "changed" translated."""
    model = _model_of(entry.action)
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    return ShownEntry(
        entry=entry,
        action=str(ACTION_LABELS.get(entry.action, entry.action)),
        changes=[_shown_change(model, key, change) for key, change in changes.items()],
    )


def masked(secret: str) -> str:
    """An API key as the audit log and the pages show it: "••••" and its last four characters."""
    return f"••••{last4(secret)}" if secret else ""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The JSON-able values of `fields` (never pass a secret field: mask it yourself)."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"from": old, "to": new}} for the fields whose value changed (None: absent)."""
    changes: dict[str, dict[str, Any]] = {}
    for name in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = {"from": old, "to": new}
    return changes


def record(
    *,
    actor: Actor,
    action: str,
    application: Application | None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry. Call it inside the transaction of the change it describes.

    An action code without a label in ACTION_LABELS is refused before anything is written: the log would
    show it raw, and the test of whichever action records it fails here instead."""
    if action not in ACTION_LABELS:
        raise ValueError(
            f"Audit action {action!r} has no label: add it to ACTION_LABELS in channels_app/audit.py "
            "(and its pt-BR translation)."
        )
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "system",
        application=application,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr[:200],
        changes=changes or {},
    )


def delete_recorded(
    *,
    actor: Actor,
    action: str,
    obj: models.Model,
    fields: list[str],
    application: Application | None,
    target: models.Model | None = None,
) -> None:
    """Delete `obj` with one audit entry that keeps its audited `fields` (as a change to nothing), in
    one transaction: the deletions of settings (labels, canned replies, templates, webhooks) read alike."""
    with transaction.atomic():
        record(
            actor=actor,
            action=action,
            application=application,
            target=obj if target is None else target,
            changes=diff(snapshot(obj, fields), {}),
        )
        obj.delete()


def record_for_webhooks(
    *, actor: Actor, action: str, application: Application, changes: dict[str, Any]
) -> AuditEntry:
    """An entry about an Application's webhooks as a whole (connected, recovered): no one row is it."""
    return record(
        actor=actor,
        action=action,
        application=application,
        target_type="webhooks",
        target_id=str(application.pk),
        target_repr=f"webhooks of {application.name}",
        changes=changes,
    )
