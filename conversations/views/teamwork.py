"""What agents do for each other in a thread: notes (and the mentions page).

Thin views like inbox.py's: authorize with `conversation_for` (404 for another tenant), call one action,
answer with a live frame of the same partials the websocket sends.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from channels_app.access import AuthenticatedRequest
from conversations.actions.notes import NoteError, do_add_note
from conversations.selectors.mentions import mentions_of
from conversations.selectors.thread import conversation_for
from conversations.views.inbox import _back_to, _refused, thread_item_response


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
