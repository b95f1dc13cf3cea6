"""The audit log's vocabulary: snapshots of what an admin changed, with secrets replaced before storing.

Actions (channels_app/actions.py) call `record()` inside their own transaction, so an entry exists
exactly when the change it describes was committed.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import models, transaction

from channels_app.access import AuthUser
from channels_app.crypto import last4
from channels_app.models import Application, AuditEntry

Actor = AuthUser | AnonymousUser | None

# What a signing secret becomes in an entry: its value, even masked, is nobody's business.
CHANGED = "changed"


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
    """Write one audit entry. Call it inside the transaction of the change it describes."""
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
