"""The contact panel beside a thread: notes about the customer and links to the same person's contacts
on other channels. Each write answers with the panel redrawn (or the panel with why it was refused)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from channels_app.access import AuthenticatedRequest
from conversations.actions.contacts import do_link_contacts, do_save_contact_notes, do_unlink_contact
from conversations.actions.threads import ThreadActionError
from conversations.models import Contact, Conversation
from conversations.selectors.thread import contact_for, contact_panel, conversation_for, link_candidates


def _panel(request: AuthenticatedRequest, conversation: Conversation, *, error: str = "") -> HttpResponse:
    conversation.contact.refresh_from_db()
    context = {
        "conversation": conversation,
        "panel": contact_panel(conversation=conversation),
        "panel_error": error,
    }
    return render(request, "conversations/partials/contact_panel.html", context, status=422 if error else 200)


def _write(
    request: AuthenticatedRequest, conversation: Conversation, action: Callable[[], object]
) -> HttpResponse:
    try:
        action()
    except ThreadActionError as error:
        return _panel(request, conversation, error=str(error))
    if not request.htmx:
        return redirect("conversation", conversation_id=conversation.pk)
    return _panel(request, conversation)


def _posted_contact(request: AuthenticatedRequest, field: str) -> Contact:
    """The contact whose id the form posted in `field`, if this user may see it; else 404."""
    value = request.POST.get(field, "")
    if not value.isdigit():
        raise Http404("No such contact.")
    return contact_for(request.user, int(value))


@login_required
@require_GET
def candidates(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Contacts of this Application matching `q`, to link to this thread's contact."""
    conversation = conversation_for(request.user, conversation_id)
    found = link_candidates(conversation=conversation, term=request.GET.get("q", ""))
    return render(
        request,
        "conversations/partials/link_candidates.html",
        {"conversation": conversation, "candidates": found},
    )


@login_required
@require_POST
def link(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for(request.user, conversation_id)
    other = _posted_contact(request, "other")
    return _write(
        request,
        conversation,
        lambda: do_link_contacts(contact=conversation.contact, other=other, actor=request.user),
    )


@login_required
@require_POST
def unlink(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Take one contact of the panel's person out of it (this thread's contact, or a linked one)."""
    conversation = conversation_for(request.user, conversation_id)
    contact = _posted_contact(request, "contact")
    own = conversation.contact
    if contact.pk != own.pk and (own.person_id is None or contact.person_id != own.person_id):
        raise Http404("No such contact.")
    return _write(request, conversation, lambda: do_unlink_contact(contact=contact, actor=request.user))


@login_required
@require_POST
def notes(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_for(request.user, conversation_id)
    text = request.POST.get("notes", "")
    return _write(
        request,
        conversation,
        lambda: do_save_contact_notes(contact=conversation.contact, notes=text, actor=request.user),
    )
