"""Activity lines: the small centred lines between the bubbles that say who did what to a conversation
("Dana assigned this to Alice · 14:02").

`record_activity` is the one way to write one. Call it inside the transaction of the change it
describes (after the change is known to be real: an action that changed nothing records nothing), so the
line and the change commit together or not at all. It is a thread item (`Message` with direction
`activity`): ordered with the messages by id, paged and caught up with them, drawn by message.html, sent
live as `thread.item` after commit, never sent to the Hub and never unread.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from channels_app.access import AuthUser
from conversations.events import publish_thread_item
from conversations.models import Activity, Conversation, Message


def record_activity(
    *,
    conversation: Conversation,
    verb: Activity,
    actor: AuthUser | None,
    target: str = "",
    until: datetime | None = None,
) -> Message:
    """Store one activity line of `conversation` and publish it after commit.

    `actor`: who did it (None: the customer or Hubdash itself). `target`: the name it is about, kept as
    it was then (the assignee's name, the label's name). `until`: when a snooze ends.
    """
    detail: dict[str, str] = {"verb": verb.value}
    if target:
        detail["target"] = target
    if until is not None:
        detail["until"] = until.isoformat()
    with transaction.atomic():
        item = Message.objects.create(
            conversation_id=conversation.pk,
            channel_id=conversation.channel_id,
            direction=Message.Direction.ACTIVITY,
            content={"activity": detail},
            status="",
            author=actor,
        )
        publish_thread_item(
            application_id=conversation.application_id, conversation_id=conversation.pk, message_id=item.pk
        )
    return item
