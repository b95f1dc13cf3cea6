"""An agent's mentions in team notes: the nav's unread count and the list behind it."""

from __future__ import annotations

from django.db.models import QuerySet

from channels_app.access import AuthUser, User, visible_applications
from conversations.models import Mention


def unread_mentions(*, user: User) -> int:
    """One indexed count. Mentions of an Application the user lost are marked read when they lose it
    (conversations/receivers.py), so this needs no access join."""
    if not user.is_authenticated:
        return 0
    return Mention.objects.filter(user_id=user.pk, read_at__isnull=True).count()


def _visible_mentions(user: AuthUser) -> QuerySet[Mention]:
    return Mention.objects.filter(user=user, application__in=visible_applications(user)).select_related(
        "note__author", "conversation__contact", "application"
    )


def mentions_of(*, user: AuthUser, limit: int = 50) -> QuerySet[Mention]:
    """The user's latest mentions in the Applications they see now, newest first."""
    return _visible_mentions(user).order_by("-id")[:limit]


def unread_mention_of(*, user: AuthUser, note_id: int) -> Mention | None:
    """The user's unread mention in this note, if they still see its Application (what a live notice
    of it may show); None otherwise, e.g. when they already opened the conversation."""
    return _visible_mentions(user).filter(note_id=note_id, read_at__isnull=True).first()
