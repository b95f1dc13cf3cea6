"""Reactions: attached to the message they react to, never a bubble of their own.

A customer's reaction (normalized §4.2 content, or the legacy §4.4 bodies `events.py` converts) is kept
on its target's row (`Message.reactions["customer"]`): the bubble shows it as a badge, a later reaction
of the same customer replaces it, an "unreact" (empty emoji) removes it. It does not count as unread
and does not move the conversation: it is not something to answer. A reaction whose target we do not
have (sent before Hubdash was connected, or on another channel) is stored as a message, as before.

An agent's reaction is a reply like any other for the Hub (stored first, sent by the worker), but it
too is drawn on its target's bubble (`Message.reactions["agent"]`), not as a bubble (thread.py skips it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from channels_app.hub.message_content import Reaction, parse_content
from conversations.events import publish_on_commit
from conversations.models import Message

# The reactions an agent can pick (each bubble's palette); "" takes the agent's reaction away.
AGENT_REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")


def reaction_of(content: Any) -> Reaction | None:
    """The reaction `content` is, or None for any other content."""
    value = parse_content(content)
    return value if isinstance(value, Reaction) else None


def quote_of(message: Message) -> dict[str, Any]:
    """What a reply's bubble shows of the message it quotes (stored on the reply: `Message.quote`)."""
    return {"id": message.pk, "direction": message.direction, "preview": message.preview[:140]}


def _publish(message: Message, application_id: int) -> None:
    publish_on_commit(
        {
            "type": "message.reactions",
            "application_id": application_id,
            "conversation_id": message.conversation_id,
            "message_id": message.pk,
        }
    )


def set_reaction(*, target: Message, who: str, emoji: str, at: datetime, application_id: int) -> bool:
    """Put `who`'s reaction on `target` (locked by the caller; "" removes it) unless a later one is
    there already (deliveries can arrive out of order). Returns whether the bubble changed."""
    current = (target.reactions or {}).get(who)
    if isinstance(current, dict) and str(current.get("at", "")) > at.isoformat():
        return False
    reactions = dict(target.reactions or {})
    if emoji:
        reactions[who] = {"emoji": emoji, "at": at.isoformat()}
    elif who in reactions:
        del reactions[who]
    else:
        return False
    target.reactions = reactions
    target.reacted_at = timezone.now()
    target.save(update_fields=["reactions", "reacted_at"])
    _publish(target, application_id)
    return True


def attach_inbound_reaction(
    *, channel_id: int, application_id: int, reaction: Reaction, at: datetime
) -> bool:
    """A customer's reaction onto its target message of the same channel (inside the caller's
    transaction). False when the target is unknown: the caller then stores it as a message."""
    if not reaction.message_id:
        return False
    target = (
        Message.objects.select_for_update()
        .filter(channel_id=channel_id, hub_message_id=reaction.message_id)
        .first()
    )
    if target is None:
        return False
    set_reaction(target=target, who="customer", emoji=reaction.emoji, at=at, application_id=application_id)
    return True
