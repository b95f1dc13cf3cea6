"""A reply sent through the API, made idempotent by the caller's `Idempotency-Key`.

The key is the composer's mechanism (conversations/actions/replies.py stores a reply under a unique
key; a second submission finds it), under a name of our own: `api-<user id>-<SHA-256 of the key>`,
so keys are per user, any length up to 255 characters, and never meet a composer's key. A replay is
recognised by what the first request stored: the same conversation and the same content is the same
request (200, the stored reply, even if the service window has closed since); anything else under the
same key is refused (422) and changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from channels_app.access import AuthUser
from channels_app.hub.content import ContentError
from conversations.actions.replies import do_send_reply
from conversations.models import Conversation, Message

MAX_KEY_LENGTH = 255


class IdempotencyConflict(ValueError):
    """The key was used for a different request."""


@dataclass(frozen=True)
class ApiReply:
    message: Message
    replayed: bool  # True: the key's first request stored it; nothing new was stored now


def stored_key(*, user_id: int, key: str) -> str:
    return f"api-{user_id}-{hashlib.sha256(key.encode()).hexdigest()[:48]}"


def do_send_api_reply(
    *,
    conversation: Conversation,
    author: AuthUser,
    content: dict[str, Any],
    idempotency_key: str,
    template: dict[str, str] | None = None,
) -> ApiReply:
    """Store the reply (the worker sends it), or return the one this key already stored.

    Raises IdempotencyConflict when the key stored a different reply, ContentError when the reply
    cannot be sent (nothing is stored then). `template`: a library template's name and text, as the
    bubble shows it (`channels_app.selectors.library_template`).
    """
    key = stored_key(user_id=author.pk, key=idempotency_key)
    existing = Message.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _replay(existing, conversation=conversation, content=content)
    try:
        message = do_send_reply(
            conversation=conversation, author=author, content=content, idempotency_key=key, template=template
        )
    except ContentError:
        # Lost a race to the same key on another conversation (the composer's wording would not fit).
        raced = Message.objects.filter(idempotency_key=key).first()
        if raced is not None:
            return _replay(raced, conversation=conversation, content=content)
        raise
    # A concurrent request with the same key may have committed first: do_send_reply returns its reply.
    if message.conversation_id != conversation.pk or message.content != content:
        raise IdempotencyConflict()
    return ApiReply(message=message, replayed=False)


def _replay(message: Message, *, conversation: Conversation, content: dict[str, Any]) -> ApiReply:
    if message.conversation_id != conversation.pk or message.content != content:
        raise IdempotencyConflict()
    return ApiReply(message=message, replayed=True)
