"""The inbox's realtime events: their payloads and when they are published.

Each goes to its Application's group only (`app.<id>`): that is the group every open inbox tab joins,
and a tab with the thread open finds the thread's part in the same event. The plumbing (publisher,
sequence numbers, access changes) is channels_app/realtime.py; what an event draws is live.py.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from channels_app.hooks import send_event_on_commit
from channels_app.realtime import application_group, send_on_commit, user_group


class MessageCreated(TypedDict):
    """A new message: its bubble for the tabs showing the thread, the moved row and header for all."""

    type: Literal["message.created"]
    application_id: int
    conversation_id: int
    message_id: int
    # A customer's message (ingest), and whether it started the conversation: what tabs notify of.
    inbound: NotRequired[bool]
    new_conversation: NotRequired[bool]


class MessageStatusChanged(TypedDict):
    type: Literal["message.status"]
    application_id: int
    conversation_id: int
    message_id: int
    status: str


class MessageReactionsChanged(TypedDict):
    """A reaction attached to (or removed from) a message: its bubble is drawn again; no row moves."""

    type: Literal["message.reactions"]
    application_id: int
    conversation_id: int
    message_id: int


class ConversationUpdated(TypedDict):
    type: Literal["conversation.updated"]
    application_id: int
    conversation_id: int


class ThreadItemCreated(TypedDict):
    """A note or an activity line: drawn in the tabs showing the thread; the list row does not change."""

    type: Literal["thread.item"]
    application_id: int
    conversation_id: int
    message_id: int


Event = (
    MessageCreated | MessageStatusChanged | MessageReactionsChanged | ConversationUpdated | ThreadItemCreated
)


def publish_on_commit(event: Event) -> None:
    """Send `event` to its Application's group once the transaction commits."""
    send_on_commit(application_group(event["application_id"]), dict(event))
    send_event_on_commit(dict(event))  # outgoing webhooks (integrations/) hear of it through this seam


def publish_conversation_updated(*, application_id: int, conversation_id: int) -> None:
    publish_on_commit(
        {"type": "conversation.updated", "application_id": application_id, "conversation_id": conversation_id}
    )


def publish_message_created(
    *,
    application_id: int,
    conversation_id: int,
    message_id: int,
    inbound: bool = False,
    new_conversation: bool = False,
) -> None:
    """One event for a new message: it carries the row and the header too (live.py), so each tab gets
    one frame per message rather than one for the bubble and one for the conversation."""
    event: MessageCreated = {
        "type": "message.created",
        "application_id": application_id,
        "conversation_id": conversation_id,
        "message_id": message_id,
    }
    if inbound:
        event["inbound"] = True
        event["new_conversation"] = new_conversation
    publish_on_commit(event)


def publish_thread_item(*, application_id: int, conversation_id: int, message_id: int) -> None:
    publish_on_commit(
        {
            "type": "thread.item",
            "application_id": application_id,
            "conversation_id": conversation_id,
            "message_id": message_id,
        }
    )


class ContactChanged(TypedDict):
    """A contact's name, notes or links changed: the contact panel of each listed conversation is drawn
    again for the tabs that have it open. A contact has one conversation, so the list is this contact's
    and, for a link or an unlink, those of every contact whose panel lists it (its person, before and
    after). Rows and headers that show the name follow through `conversation.updated`."""

    type: Literal["contact.changed"]
    application_id: int
    conversation_ids: list[int]


def publish_contact_changed(*, application_id: int, conversation_ids: list[int]) -> None:
    """The panels of these conversations changed. Not an outgoing webhook (integrations/): no event of
    the public API carries contacts' notes or links."""
    if not conversation_ids:
        return
    event: ContactChanged = {
        "type": "contact.changed",
        "application_id": application_id,
        "conversation_ids": sorted(set(conversation_ids)),
    }
    send_on_commit(application_group(application_id), dict(event))


class MentionsChanged(TypedDict):
    """A user's unread mentions changed, sent to their own group only: the nav's badge is redrawn. With
    `note_id`, a new note mentions them: their tabs may also notify of it (consumers.py checks access)."""

    type: Literal["mentions.changed"]
    application_id: NotRequired[int]
    conversation_id: NotRequired[int]
    note_id: NotRequired[int]


def publish_mentions_changed(*, user_ids: list[int]) -> None:
    """These users' count of unread mentions changed: their open tabs redraw the nav's badge."""
    event: MentionsChanged = {"type": "mentions.changed"}
    for user_id in user_ids:
        send_on_commit(user_group(user_id), dict(event))


def publish_mentioned(
    *, user_ids: list[int], application_id: int, conversation_id: int, note_id: int
) -> None:
    """A note mentions these users: one event each (the badge and the notice in one frame)."""
    event: MentionsChanged = {
        "type": "mentions.changed",
        "application_id": application_id,
        "conversation_id": conversation_id,
        "note_id": note_id,
    }
    for user_id in user_ids:
        send_on_commit(user_group(user_id), dict(event))
