"""Team notes: what agents write to each other in a thread, never to the customer.

A note is a thread item (`Message` with direction `note`): ordered with the messages, live in every tab
(`thread.item`), never sent to the Hub, never a reply (no preview, no last message, no activity time),
never in the delivery review. `@username` names a member of the note's Application: they get a mention
(unread until they open the conversation, counted in their nav, live). A name that is not a member's
stays plain text and notifies nobody, so a note cannot be used to learn who works for another tenant.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_app.access import AuthUser
from channels_app.hub.events import clean_text
from channels_app.models import Membership
from conversations.events import publish_mentioned, publish_mentions_changed, publish_thread_item
from conversations.models import Conversation, Mention, Message

MAX_NOTE_LENGTH = 10_000
# `@name` not inside a word or an e-mail address; Django usernames are letters, digits and @.+-_ (the
# @ is left out here: `@ana@x.org` is an address, not a mention; nor is `x.com/@ana`, a link).
MENTION = re.compile(r"(?<![\w@/])@([\w.+-]+)")


class NoteError(ValueError):
    """The note cannot be stored as written; the message is for the agent."""


def mentioned_names(text: str) -> list[str]:
    """The `@names` in `text`, lower-cased, in order, once each (a sentence's full stop is not part of one)."""
    names: list[str] = []
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".-+").lower()
        if name and name not in names:
            names.append(name)
    return names


def _members_named(conversation: Conversation, names: list[str]) -> list[AuthUser]:
    if not names:
        return []
    members = Membership.objects.filter(application_id=conversation.application_id).values("user_id")
    users = get_user_model().objects.filter(is_active=True, pk__in=members)
    wanted = set(names)
    return [u for u in users.order_by("pk") if u.get_username().lower() in wanted]


def do_add_note(
    *, conversation: Conversation, author: AuthUser, text: str, idempotency_key: str = ""
) -> Message:
    """Store a note in the thread and tell the members it mentions. Raises NoteError (nothing stored)
    for an empty or over-long note. `idempotency_key`: the composer form's; the same key returns the
    note already stored for it (a double submission stores one note)."""
    body = clean_text(text).strip()
    if not body:
        raise NoteError(_("Write something first: a note cannot be empty."))
    if len(body) > MAX_NOTE_LENGTH:
        raise NoteError(
            _("A note has at most %(limit)s characters; this one has %(length)s.")
            % {"limit": f"{MAX_NOTE_LENGTH:,}", "length": f"{len(body):,}"}
        )
    key = (idempotency_key or "").strip()[:64] or None
    if key is not None:
        existing = Message.objects.filter(idempotency_key=key, conversation=conversation).first()
        if existing is not None:
            return existing
    mentioned = _members_named(conversation, mentioned_names(body))
    try:
        with transaction.atomic():
            note = Message.objects.create(
                conversation_id=conversation.pk,
                channel_id=conversation.channel_id,
                direction=Message.Direction.NOTE,
                # Who was mentioned, as they were named: the bubble marks exactly those (no query to draw it).
                content={"text": body, "mentions": [u.get_username() for u in mentioned]},
                status="",
                author=author,
                idempotency_key=key,
            )
            Mention.objects.bulk_create(
                Mention(
                    note=note,
                    user=user,
                    application_id=conversation.application_id,
                    conversation_id=conversation.pk,
                )
                for user in mentioned
                if user.pk != author.pk  # naming yourself is not news to you
            )
            publish_thread_item(
                application_id=conversation.application_id,
                conversation_id=conversation.pk,
                message_id=note.pk,
            )
            publish_mentioned(
                user_ids=[u.pk for u in mentioned if u.pk != author.pk],
                application_id=conversation.application_id,
                conversation_id=conversation.pk,
                note_id=note.pk,
            )
    except IntegrityError:
        existing = Message.objects.filter(idempotency_key=key, conversation=conversation).first()
        if existing is None:
            raise
        return existing
    return note


def do_read_mentions(*, user: AuthUser, conversation: Conversation) -> int:
    """The user opened the conversation: its mentions of them are read. Returns how many were unread.

    One statement, a transaction by itself (every opening of a thread runs it: no BEGIN and COMMIT
    round trips around it); the event goes out once it has committed."""
    count = Mention.objects.filter(user=user, conversation=conversation, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if count:
        publish_mentions_changed(user_ids=[user.pk])
    return count


def do_forget_mentions(*, user_id: int, application_id: int) -> None:
    """The user no longer sees the Application: its mentions of them stop counting."""
    with transaction.atomic():
        count = Mention.objects.filter(
            user_id=user_id, application_id=application_id, read_at__isnull=True
        ).update(read_at=timezone.now())
        if count:
            publish_mentions_changed(user_ids=[user_id])
