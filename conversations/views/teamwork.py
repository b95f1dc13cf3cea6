"""What agents do for each other in a thread: notes (and the mentions page).

Thin views like inbox.py's: authorize with `conversation_for` (404 for another tenant), call one action,
answer with a live frame of the same partials the websocket sends.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels_app.access import AuthenticatedRequest, application_for
from channels_app.models import Application
from channels_app.views import settings_admin_required
from conversations.actions.canned import (
    CannedError,
    do_create_canned_reply,
    do_delete_canned_reply,
    do_update_canned_reply,
    may_share,
)
from conversations.actions.labels import (
    LabelError,
    do_create_label,
    do_delete_label,
    do_set_label,
    do_update_label,
)
from conversations.actions.notes import NoteError, do_add_note
from conversations.canned import VARIABLES
from conversations.forms import CannedReplyForm, LabelForm
from conversations.models import CannedReply
from conversations.selectors.inbox import labels_of
from conversations.selectors.mentions import mentions_of
from conversations.selectors.teamwork import (
    canned_replies_for,
    canned_reply_for,
    label_for,
    label_of_conversation,
)
from conversations.selectors.thread import conversation_for
from conversations.views.inbox import _back_to, _refused, _thread_action, thread_item_response


@login_required
@require_POST
def add_note(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """A note for the team (`text`, `idempotency_key`): never sent to the customer."""
    conversation = conversation_for(request.user, conversation_id)
    try:
        note = do_add_note(
            conversation=conversation,
            author=request.user,
            text=request.POST.get("text", ""),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except NoteError as error:
        return _refused(request, conversation, str(error), title=_("Note not added"), target="composer")
    if not request.htmx:
        return _back_to(conversation)
    return thread_item_response(request, conversation, note)


@login_required
@require_GET
def mentions(request: AuthenticatedRequest) -> HttpResponse:
    """The notes that mention the signed-in agent, newest first; opening one's thread reads it."""
    return render(request, "conversations/mentions.html", {"mentions": mentions_of(user=request.user)})


@login_required
@require_POST
def set_label(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Add or remove a label (`label` = "<id>:add" or "<id>:remove")."""
    conversation = conversation_for(request.user, conversation_id)
    label_id, _sep, operation = request.POST.get("label", "").partition(":")
    label = label_of_conversation(conversation, label_id)
    if label is None or operation not in ("add", "remove"):
        return _refused(request, conversation, _("No such label."), title=_("Label not changed"))
    return _thread_action(
        request,
        conversation,
        lambda: do_set_label(
            conversation=conversation, label=label, on=operation == "add", actor=request.user
        ),
        refused_title=_("Label not changed"),
    )


# --- settings: labels (admins) ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@settings_admin_required
def labels_settings(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    form = LabelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            label = do_create_label(actor=request.user, application=application, **form.cleaned_data)
        except LabelError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Label “%(name)s” added.") % {"name": label.name})
            return redirect("settings:labels", application.pk)
    context = {
        "application": application,
        "labels": labels_of(application_ids=[application.pk]),
        "form": form,
        "section": "applications",
    }
    return render(request, "settings/labels.html", context)


@require_POST
@settings_admin_required
def label_edit(request: AuthenticatedRequest, label_id: int) -> HttpResponse:
    label = label_for(request.user, label_id, admin=True)
    form = LabelForm(request.POST)
    if form.is_valid():
        try:
            do_update_label(actor=request.user, label=label, **form.cleaned_data)
        except LabelError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
    if form.errors:
        for field_errors in form.errors.values():
            for text in field_errors:
                messages.error(request, str(text))
    else:
        messages.success(request, _("Label saved."))
    return redirect("settings:labels", label.application_id)


@require_POST
@settings_admin_required
def label_delete(request: AuthenticatedRequest, label_id: int) -> HttpResponse:
    label = label_for(request.user, label_id, admin=True)
    application_id = label.application_id
    do_delete_label(actor=request.user, label=label)
    messages.success(request, _("Label removed."))
    return redirect("settings:labels", application_id)


# --- settings: canned replies (shared by admins, personal by anyone) -------------------------------


def _canned_page(
    request: AuthenticatedRequest, application: Application, form: CannedReplyForm
) -> HttpResponse:
    context = {
        "application": application,
        "replies": list(
            canned_replies_for(user=request.user, application_id=application.pk).select_related("owner")
        ),
        "form": form,
        "can_share": may_share(user=request.user, application=application),
        "variables": VARIABLES,
        "section": "applications",
    }
    return render(request, "settings/canned_replies.html", context)


def _add_canned_error(form: CannedReplyForm, error: CannedError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


@login_required
@require_http_methods(["GET", "POST"])
def canned_replies_settings(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    """List and create canned replies; any member may (a shared one: its admins)."""
    application = application_for(request.user, application_id)
    form = CannedReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reply = do_create_canned_reply(actor=request.user, application=application, **form.cleaned_data)
        except CannedError as error:
            _add_canned_error(form, error)
        else:
            messages.success(request, _("Canned reply /%(code)s added.") % {"code": reply.code})
            return redirect("settings:canned_replies", application.pk)
    return _canned_page(request, application, form)


def _may_change(request: AuthenticatedRequest, reply: CannedReply) -> bool:
    if reply.owner_id is not None:
        return reply.owner_id == request.user.pk
    return may_share(user=request.user, application=reply.application)


@login_required
@require_http_methods(["GET", "POST"])
def canned_reply_edit(request: AuthenticatedRequest, reply_id: int) -> HttpResponse:
    reply = canned_reply_for(request.user, reply_id)
    if not _may_change(request, reply):
        raise PermissionDenied(_("Only the Application's admins change shared replies."))
    initial = {"code": reply.code, "title": reply.title, "body": reply.body, "shared": reply.owner_id is None}
    form = CannedReplyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            do_update_canned_reply(
                actor=request.user, reply=reply, code=data["code"], title=data["title"], body=data["body"]
            )
        except CannedError as error:
            _add_canned_error(form, error)
        else:
            messages.success(request, _("Canned reply saved."))
            return redirect("settings:canned_replies", reply.application_id)
    context = {"application": reply.application, "reply": reply, "form": form, "variables": VARIABLES}
    return render(request, "settings/canned_reply_edit.html", context)


@login_required
@require_POST
def canned_reply_delete(request: AuthenticatedRequest, reply_id: int) -> HttpResponse:
    reply = canned_reply_for(request.user, reply_id)
    if not _may_change(request, reply):
        raise PermissionDenied(_("Only the Application's admins change shared replies."))
    application_id = reply.application_id
    do_delete_canned_reply(actor=request.user, reply=reply)
    messages.success(request, _("Canned reply removed."))
    return redirect("settings:canned_replies", application_id)
