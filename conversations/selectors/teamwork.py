"""Reads of the team features: labels and canned replies, each fetched and access-checked in one step
(404 for what the user may not see, as `conversation_for` does)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from channels_app.access import AuthUser, User, visible_applications
from channels_app.models import Membership
from conversations.models import CannedReply, Conversation, Label, Message
from conversations.selectors.thread import conversation_roster


def label_for(user: User, label_id: int | str, *, admin: bool = False) -> Label:
    """A label of an Application the user may see (administer, with admin=True); else 404."""
    role = Membership.Role.ADMIN if admin else None
    try:
        return Label.objects.select_related("application").get(
            pk=int(label_id), application__in=visible_applications(user, role=role)
        )
    except (Label.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such label.") from None


def label_of_conversation(conversation: Conversation, label_id: int | str) -> Label | None:
    """One of the labels the conversation's Application defines, or None."""
    text = str(label_id)
    if not text.isdigit() or len(text) > 18:
        return None
    return Label.objects.filter(pk=int(text), application_id=conversation.application_id).first()


def canned_replies_for(*, user: AuthUser, application_id: int) -> QuerySet[CannedReply]:
    """The Application's shared canned replies and the user's own, by code (the caller checked access)."""
    return CannedReply.objects.filter(application_id=application_id).filter(
        Q(owner__isnull=True) | Q(owner_id=user.pk)
    )


def page_canned_replies(*, user: AuthUser, conversation: Conversation) -> list[CannedReply]:
    """`canned_replies_for` the conversation's Application, for the composer's `/` picker on every
    thread page: as this process read them for this user at the Application's roster version."""
    return conversation_roster(
        ("canned", user.pk),
        conversation,
        lambda: list(canned_replies_for(user=user, application_id=conversation.application_id)),
    )


def canned_reply_for(user: User, reply_id: int | str) -> CannedReply:
    """A shared canned reply of an Application the user sees, or one of their own; else 404."""
    try:
        return (
            CannedReply.objects.select_related("application", "owner")
            .filter(application__in=visible_applications(user))
            .filter(Q(owner__isnull=True) | Q(owner_id=user.pk))
            .get(pk=int(reply_id))
        )
    except (CannedReply.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such canned reply.") from None


def notes_of(*, conversation: Conversation, limit: int = 200) -> list[Message]:
    """The conversation's latest notes, oldest first (the caller checked access)."""
    notes = Message.objects.filter(conversation=conversation, direction=Message.Direction.NOTE)
    return list(reversed(notes.select_related("author").order_by("-id")[:limit]))
