"""What the inbox and thread pages ask the database: each fact once, and no write when nothing changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations.models import Conversation
from conversations.selectors.thread import conversation_for, thread_page
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.django_db


def _sql(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"].upper() for q in queries.captured_queries]


@pytest.mark.parametrize("page", ["inbox", "thread"])
def test_a_page_reads_the_users_applications_once(agent_a_client, app_a, page):
    conversation = make_conversation(app_a)
    url = "/" if page == "inbox" else reverse("conversation", args=[conversation.pk])

    with CaptureQueriesContext(connection) as queries:
        assert agent_a_client.get(url).status_code == 200

    # Which Applications the user sees: once, handed to the access check, the list and the filter bar.
    # (The nav's "may this user review or use settings" asks on its own, by role.)
    memberships = [
        sql
        for sql in _sql(queries)
        if "CHANNELS_APP_MEMBERSHIP" in sql and '"USER_ID" =' in sql and "ROLE" not in sql
    ]
    assert len(memberships) == 1


def test_opening_a_read_thread_takes_no_lock(agent_a_client, app_a):
    conversation = make_conversation(app_a, unread=0)

    with CaptureQueriesContext(connection) as queries:
        assert agent_a_client.get(reverse("conversation", args=[conversation.pk])).status_code == 200

    assert not [sql for sql in _sql(queries) if "FOR UPDATE" in sql]


def test_opening_an_unread_thread_still_marks_it_read(agent_a_client, app_a):
    conversation = make_conversation(app_a, unread=3)

    agent_a_client.get(reverse("conversation", args=[conversation.pk]))

    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_a_page_of_messages_is_one_query_in_every_direction(app_a):
    conversation = make_conversation(app_a, text=None)
    messages = [add_message(conversation, content={"text": f"m{i}"}) for i in range(6)]

    for kwargs in ({}, {"before_id": messages[4].pk}, {"after_id": messages[1].pk}):
        with CaptureQueriesContext(connection) as queries:
            page = thread_page(conversation=conversation, limit=3, **kwargs)
            [m.author for m in page.messages]  # joined, not read per bubble
        assert len(queries) == 1, kwargs


def test_checking_access_to_a_conversation_is_one_query(app_a, agent_a, agent_b):
    conversation = make_conversation(app_a)

    with CaptureQueriesContext(connection) as queries:
        assert conversation_for(agent_a, conversation.pk).pk == conversation.pk
    with pytest.raises(Exception) as refused:
        conversation_for(agent_b, conversation.pk)

    assert len(queries) == 1
    assert refused.type.__name__ == "Http404"
    assert Conversation.objects.filter(pk=conversation.pk).exists()
