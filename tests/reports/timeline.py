"""Hand-built timelines for the reports' tests: each step goes through the real action (the webhook for
a customer, the reply and status actions for agents) at an exact moment of the clock."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import date, datetime
from typing import Any

import time_machine
from django.test import Client

from channels_app.hub.content import build_reply_content
from channels_app.models import Application
from conversations.actions.replies import do_send_reply
from conversations.actions.threads import do_set_status
from conversations.models import Contact, Conversation
from tests.ingest.ingest_support import message_event, post_event

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")  # UTC-3 all year
MONDAY = date(2026, 11, 23)


def local(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SAO_PAULO)


class Timeline:
    def __init__(self, app: Application, kind: str = "whatsapp") -> None:
        self.app = app
        self.channel = app.channels.get(kind=kind)
        self.hub = Client()

    def customer(self, at: datetime, sender: str, text: str = "Hello?") -> Conversation:
        with time_machine.travel(at, tick=False):
            event = message_event(
                self.channel,
                sender=sender,
                content={"type": "text", "text": text},
                timestamp=int(at.timestamp()),
            )
            response = post_event(self.hub, self.app, event)
        assert response.status_code == 200, response.content
        contact = Contact.objects.get(channel=self.channel, external_id=sender)
        return Conversation.objects.select_related("contact").get(contact=contact)

    def reply(self, at: datetime, conversation: Conversation, agent: Any, text: str = "On it.") -> None:
        with time_machine.travel(at, tick=False):
            conversation.refresh_from_db()
            do_send_reply(
                conversation=conversation,
                author=agent,
                content=build_reply_content(channel_kind=self.channel.kind, text=text),
                idempotency_key=uuid.uuid4().hex,
            )

    def status(self, at: datetime, conversation: Conversation, agent: Any, status: str) -> None:
        with time_machine.travel(at, tick=False):
            conversation.refresh_from_db()
            do_set_status(conversation=conversation, status=status, actor=agent)
