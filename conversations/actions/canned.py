"""Canned replies: created, changed and deleted (audit-logged). Shared ones by the Application's admins,
personal ones by any member for themselves."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from channels_app import audit
from channels_app.access import AuthUser, application_for
from channels_app.hub.events import clean_text
from channels_app.models import Application
from conversations.canned import VARIABLES, unknown_variables
from conversations.models import CannedReply

CANNED_FIELDS = ["code", "title", "body", "owner"]
MAX_BODY_LENGTH = 10_000
CODE = re.compile(r"^[a-z0-9_-]{1,32}$")


class CannedError(ValueError):
    """The canned reply cannot be saved as asked; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def may_share(*, user: AuthUser, application: Application) -> bool:
    """Whether the user may create or change the Application's shared canned replies (its admins)."""
    try:
        application_for(user, application.pk, admin=True)
    except Http404:
        return False
    return True


def _check(reply: CannedReply) -> None:
    reply.code = reply.code.strip().lower().lstrip("/")
    reply.title = " ".join(clean_text(reply.title).split())
    reply.body = clean_text(reply.body).strip()
    if not CODE.match(reply.code):
        raise CannedError(
            _("A code is 1 to 32 lowercase letters, digits, - or _ (no spaces), as typed after /."),
            field="code",
        )
    if not reply.title:
        raise CannedError(_("Give it a title."), field="title")
    if not reply.body:
        raise CannedError(_("The reply cannot be empty."), field="body")
    if len(reply.body) > MAX_BODY_LENGTH:
        raise CannedError(
            _("A canned reply has at most %(limit)s characters; this one has %(length)s.")
            % {"limit": f"{MAX_BODY_LENGTH:,}", "length": f"{len(reply.body):,}"},
            field="body",
        )
    problems = unknown_variables(reply.body)
    if problems:
        raise CannedError(
            _("Unknown variable %(found)s: use %(known)s.")
            % {"found": ", ".join(problems), "known": ", ".join(f"{{{{{v}}}}}" for v in VARIABLES)},
            field="body",
        )
    # One code, one reply, for anyone who sees it: a shared code, or this owner's own.
    clash = CannedReply.objects.filter(application_id=reply.application_id, code=reply.code).filter(
        Q(owner__isnull=True) | Q(owner_id=reply.owner_id) if reply.owner_id else Q()
    )
    if reply.pk:
        clash = clash.exclude(pk=reply.pk)
    if clash.exists():
        raise CannedError(_("The code /%(code)s is already taken.") % {"code": reply.code}, field="code")


def _save(reply: CannedReply, action: str, before: dict[str, object], actor: AuthUser) -> CannedReply:
    try:
        with transaction.atomic():
            reply.save()
            audit.record(
                actor=actor,
                action=action,
                application=reply.application,
                target=reply,
                changes=audit.diff(before, audit.snapshot(reply, CANNED_FIELDS)),
            )
    except IntegrityError:  # the same code saved by someone else meanwhile
        raise CannedError(
            _("The code /%(code)s is already taken.") % {"code": reply.code}, field="code"
        ) from None
    return reply


def do_create_canned_reply(
    *, actor: AuthUser, application: Application, code: str, title: str, body: str, shared: bool
) -> CannedReply:
    if shared and not may_share(user=actor, application=application):
        raise CannedError(_("Only the Application's admins create shared replies."), field="shared")
    reply = CannedReply(
        application=application, owner=None if shared else actor, code=code, title=title, body=body
    )
    _check(reply)
    return _save(reply, "canned_reply.created", {}, actor)


def do_update_canned_reply(
    *, actor: AuthUser, reply: CannedReply, code: str, title: str, body: str
) -> CannedReply:
    before = audit.snapshot(reply, CANNED_FIELDS)
    reply.code, reply.title, reply.body = code, title, body
    _check(reply)
    return _save(reply, "canned_reply.changed", before, actor)


def do_delete_canned_reply(*, actor: AuthUser, reply: CannedReply) -> None:
    audit.delete_recorded(
        actor=actor,
        action="canned_reply.deleted",
        obj=reply,
        fields=CANNED_FIELDS,
        application=reply.application,
    )
