"""Activity lines: who assigned, unassigned, resolved or reopened a conversation, in the thread, in
order, live, never unread and never sent anywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels_app.actions.webhooks import do_store_signing_secret
from channels_app.models import Membership
from conversations.actions.activity import record_activity
from conversations.actions.replies import _due
from conversations.actions.snooze import do_snooze
from conversations.actions.threads import do_assign, do_set_status
from conversations.models import Activity, Conversation, Message
from tests.conftest import login
from tests.inbox.inbox_support import (
    add_message,
    make_conversation,
)
from tests.ingest.ingest_support import HUB_SECRET, message_event, post_event
from tests.teamwork.teamwork_support import heard_by_two_tabs

pytestmark = pytest.mark.django_db(transaction=True)


def lines(html: str) -> list[str]:
    """The activity lines' sentences as a person reads them."""
    found = re.findall(r'<li id="msg-\d+" class="activity-line".*?<span>(.*?)</span>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", text).split()) for text in found]


def test_assign_resolve_and_reopen_appear_in_the_thread_in_order(agent_a, admin, app_a):
    conversation = make_conversation(app_a)
    do_assign(conversation=conversation, assignee=agent_a, actor=admin)
    do_set_status(conversation=conversation, status="resolved", actor=agent_a)
    do_set_status(conversation=conversation, status="open", actor=admin)
    do_assign(conversation=conversation, assignee=None, actor=admin)

    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()

    assert lines(page) == [
        "Ada Admin assigned this to Alice Agent",
        "Alice Agent resolved this",
        "Ada Admin reopened this",
        "Ada Admin unassigned Alice Agent",
    ]


def test_an_action_that_changes_nothing_records_no_line(agent_a, app_a):
    conversation = make_conversation(app_a)
    do_assign(conversation=conversation, assignee=agent_a, actor=agent_a)
    do_assign(conversation=conversation, assignee=agent_a, actor=agent_a)
    do_set_status(conversation=conversation, status="open", actor=agent_a)

    assert Message.objects.filter(direction=Message.Direction.ACTIVITY).count() == 1


def test_activity_lines_are_never_unread_never_the_rows_preview_and_never_sent(admin, agent_a, app_a):
    conversation = make_conversation(app_a, unread=0)
    before = Conversation.objects.get(pk=conversation.pk)
    do_assign(conversation=conversation, assignee=agent_a, actor=agent_a)

    after = Conversation.objects.get(pk=conversation.pk)
    assert after.unread_count == 0
    assert after.last_message_id == before.last_message_id
    assert after.last_activity_at == before.last_activity_at
    line = Message.objects.get(direction=Message.Direction.ACTIVITY)
    assert line.status == "" and line.hub_message_id is None
    # The delivery review lists replies only; the worker takes due replies only.
    reply = add_message(conversation, content={"text": "hi"}, direction="out", author=agent_a)  # the control
    review = login(admin).get("/review/").content.decode()
    assert f'data-message="{reply.pk}"' in review
    assert f'data-message="{line.pk}"' not in review
    due = _due(timezone.now() + timedelta(days=1))
    assert due.filter(pk=reply.pk).exists() and not due.filter(pk=line.pk).exists()


def test_names_in_activity_lines_are_escaped(app_a, agent_a):
    mallory = get_user_model().objects.create_user(username="mallory", first_name="<script>alert(1)</script>")
    Membership.objects.create(user=mallory, application=app_a, role=Membership.Role.AGENT)
    conversation = make_conversation(app_a)
    do_assign(conversation=conversation, assignee=mallory, actor=mallory)

    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; assigned this to &lt;script&gt;" in page


def test_a_snooze_line_shows_its_end_in_the_viewers_time_zone(agent_a, app_a):
    conversation = make_conversation(app_a)
    until = timezone.now().replace(year=2031, month=3, day=4, hour=15, minute=30, second=0, microsecond=0)
    record_activity(conversation=conversation, verb=Activity.SNOOZED, actor=agent_a, until=until)
    record_activity(conversation=conversation, verb=Activity.WOKE, actor=None)

    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()

    assert lines(page) == ["Alice Agent snoozed this until 2031-03-04 15:30", "The snooze ended"]


def test_an_assignment_reaches_the_open_thread_live_and_not_another_tenant(
    agent_a, agent_b, admin, app_a, app_b
):
    conversation = make_conversation(app_a)

    heard, leaked = heard_by_two_tabs(
        agent_a,
        agent_b,
        conversation,
        lambda: do_assign(conversation=conversation, assignee=agent_a, actor=admin),
    )

    assert lines("".join(heard)) == ["Ada Admin assigned this to Alice Agent"]
    assert leaked == []


def test_a_customer_waking_a_snoozed_thread_reaches_the_open_thread_live_and_not_another_tenant(
    agent_a, agent_b, app_a, app_b, client
):
    do_store_signing_secret(application=app_a, hub_webhook_id="hook-activity", secret=HUB_SECRET)
    whatsapp = app_a.channels.get(kind="whatsapp")
    post_event(client, app_a, message_event(whatsapp))
    conversation = Conversation.objects.get()
    do_snooze(conversation=conversation, until=timezone.now() + timedelta(days=1), actor=agent_a)

    heard, leaked = heard_by_two_tabs(
        agent_a, agent_b, conversation, lambda: post_event(client, app_a, message_event(whatsapp))
    )

    assert lines("".join(heard)) == ["Woke up: the customer wrote"]
    assert leaked == []
    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert lines(page)[-1] == "Woke up: the customer wrote"
