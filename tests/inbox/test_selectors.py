"""The inbox list and the thread: filters, search, keyset pagination and a query count that stays flat."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations.models import Conversation, Message
from conversations.selectors.inbox import InboxFilters, inbox_conversations, inbox_page, live_row
from conversations.selectors.thread import thread_page
from tests.inbox.inbox_support import add_message, ago, make_conversation

pytestmark = pytest.mark.django_db


def ids(rows) -> list[int]:
    return [row.pk for row in rows]


def test_keyset_pages_cover_every_conversation_once_in_order(app_a, agent_a):
    made = [make_conversation(app_a, at=ago(minutes=i)) for i in range(7)]
    # Two with the very same activity time: the id breaks the tie, so neither is skipped nor repeated.
    same = ago(hours=1)
    made += [make_conversation(app_a, at=same), make_conversation(app_a, at=same)]

    seen, before = [], None
    while True:
        page = inbox_page(user=agent_a, filters=InboxFilters(), before=before, limit=3)
        seen += ids(page.rows)
        if not page.next_cursor:
            break
        before = page.next_cursor

    expected = sorted(made, key=lambda c: (c.last_activity_at, c.pk), reverse=True)
    assert seen == ids(expected)


def test_keyset_page_is_stable_when_a_row_moves_to_the_top_meanwhile(app_a, agent_a):
    rows = [make_conversation(app_a, at=ago(minutes=i)) for i in range(6)]
    first = inbox_page(user=agent_a, filters=InboxFilters(), limit=3)
    # A customer of page 2 writes again: the row moves up, and page 2 must not show it twice or skip one.
    moved = rows[4]
    Conversation.objects.filter(pk=moved.pk).update(last_activity_at=ago(seconds=1))

    second = inbox_page(user=agent_a, filters=InboxFilters(), before=first.next_cursor, limit=3)

    assert ids(first.rows) == ids(rows[:3])
    assert ids(second.rows) == [rows[3].pk, rows[5].pk]


def test_pagination_query_never_uses_offset(agent_a_client, app_a, agent_a):
    for i in range(4):
        make_conversation(app_a, at=ago(minutes=i))
    page = inbox_page(user=agent_a, filters=InboxFilters(), limit=2)

    with CaptureQueriesContext(connection) as queries:
        response = agent_a_client.get(f"/?before={page.next_cursor}", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert queries.captured_queries  # the page was really read from the database
    assert all("OFFSET" not in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.parametrize("path", ["/", "conversation"])
def test_inbox_query_count_does_not_grow_with_the_number_of_conversations(
    agent_a_client, app_a, agent_a, path
):
    def queries_for(count: int) -> int:
        for i in range(count):
            conversation = make_conversation(
                app_a,
                kind=["whatsapp", "sms", "telegram"][i % 3],
                name=f"C{i}",
                unread=i % 2,
                assignee=agent_a,
            )
            add_message(
                conversation, content={"text": "reply"}, direction=Message.Direction.OUTBOUND, author=agent_a
            )
            Conversation.objects.filter(pk=conversation.pk).update(last_message=conversation.messages.last())
        url = "/" if path == "/" else reverse("conversation", args=[Conversation.objects.first().pk])
        agent_a_client.get(url)  # the process learns the new channels' kinds (selectors.channel_kinds)
        with CaptureQueriesContext(connection) as queries:
            assert agent_a_client.get(url).status_code == 200
        return len(queries)

    few = queries_for(5)
    many = queries_for(45)  # 50 in all, more than a page

    assert few == many


def test_thread_keyset_loads_older_and_newer_messages_by_id(app_a):
    conversation = make_conversation(app_a, text=None)
    messages = [add_message(conversation, content={"type": "text", "text": f"m{i}"}) for i in range(10)]

    latest = thread_page(conversation=conversation, limit=4)
    older = thread_page(conversation=conversation, before_id=latest.oldest_id, limit=4)
    newer = thread_page(conversation=conversation, after_id=messages[5].pk, limit=4)

    assert ids(latest.messages) == ids(messages[6:])
    assert latest.has_older
    assert ids(older.messages) == ids(messages[2:6])
    assert ids(newer.messages) == ids(messages[6:])


def test_scrolling_up_returns_the_older_page_with_its_own_sentinel(agent_a_client, app_a):
    conversation = make_conversation(app_a, text=None)
    messages = [add_message(conversation, content={"type": "text", "text": f"m{i}"}) for i in range(50)]

    html = agent_a_client.get(
        reverse("thread_messages", args=[conversation.pk]) + f"?before={messages[45].pk}",
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert f'id="msg-{messages[44].pk}"' in html
    assert f'id="msg-{messages[5].pk}"' in html
    assert f'id="msg-{messages[4].pk}"' not in html
    assert f'id="msg-{messages[45].pk}"' not in html
    assert f'id="thread-older-{conversation.pk}"' in html  # more above: another sentinel


# --- filters and search ----------------------------------------------------------------------------


@pytest.fixture
def varied(app_a, agent_a, admin):
    return {
        "open_whatsapp": make_conversation(app_a, name="Ana", text="Quero trocar o tamanho"),
        "pending_sms": make_conversation(app_a, kind="sms", name="Bia", status="pending", unread=2),
        "resolved_mine": make_conversation(
            app_a, kind="telegram", name="Caio", status="resolved", assignee=agent_a
        ),
        "admins": make_conversation(app_a, name="Duda", assignee=admin, text="Boleto vencido"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", {"pending_sms"}),
        ("status=resolved", {"resolved_mine"}),
        ("kind=sms&status=all", {"pending_sms"}),
        ("assigned=mine&status=all", {"resolved_mine"}),
        ("assigned=unassigned&status=all", {"open_whatsapp", "pending_sms"}),
        ("unread=1&status=all", {"pending_sms"}),
        ("q=bia&status=all", {"pending_sms"}),
        ("q=TAMANHO", {"open_whatsapp"}),
        ("q=boleto&status=open", {"admins"}),
        ("status=all", {"open_whatsapp", "pending_sms", "resolved_mine", "admins"}),
        # The default view: the open ones only, so the list shrinks as agents resolve.
        ("", {"open_whatsapp", "admins"}),
    ],
)
def test_filters_and_search_narrow_the_list(agent_a_client, varied, query, expected):
    html = agent_a_client.get(f"/?{query}").content.decode()

    shown = {name for name, c in varied.items() if f'id="conv-{c.pk}"' in html}
    assert shown == expected


@pytest.mark.parametrize(
    "query",
    [
        *("status=pending", "status=resolved", "status=all", "kind=sms&status=all"),
        *("assigned=mine&status=all", "assigned=unassigned", "unread=1&status=all", ""),
    ],
)
def test_a_live_event_places_a_row_exactly_where_the_page_would(agent_a, varied, query):
    # The page filters in SQL (inbox_conversations), a live event in memory (InboxFilters.matches, for
    # every tab at once): the two must never disagree, or a tab would gain or lose a row the page
    # would not show.
    filters = InboxFilters.from_params(QueryDict(query))
    by_page = {c.pk for c in inbox_conversations(user=agent_a, filters=filters)}
    by_event = {
        c.pk for c in varied.values() if filters.matches(live_row(conversation_id=c.pk), viewer_id=agent_a.pk)
    }

    assert by_event == by_page
    assert by_page  # the control: each case shows some row, so agreeing is not agreeing on nothing


def test_search_finds_a_contact_by_its_id(agent_a_client, app_a):
    target = make_conversation(app_a, external_id="5521987654321")
    make_conversation(app_a, external_id="5521911112222")

    html = agent_a_client.get("/?q=87654").content.decode()

    assert f'id="conv-{target.pk}"' in html
    assert html.count('class="conv-row') == 1


def test_search_finds_words_past_the_preview(agent_a_client, app_a):
    long_text = "x" * 400 + " palavra-escondida"
    target = make_conversation(app_a, text=long_text)

    html = agent_a_client.get("/?q=palavra-escondida").content.decode()

    assert f'id="conv-{target.pk}"' in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only")
def test_search_can_answer_from_the_trigram_indexes(app_a, agent_a):
    # With sequential and plain index scans priced out, the plan shows whether each index matches the SQL Django writes
    # for the search (a cast or a function that differs would leave the index unused, silently).
    make_conversation(app_a, name="Joana", text="prazo de entrega")
    query = inbox_conversations(user=agent_a, filters=InboxFilters(q="entrega"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Nor a full walk of a primary key with the match as a filter: only an index can answer it.
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = query.explain()

    for index in (
        "message_preview_trgm",
        "message_text_trgm",
        "contact_name_trgm",
        "contact_external_id_trgm",
    ):
        assert index in plan, plan
    assert [c.contact.display_name for c in query] == ["Joana"]


def test_filters_swap_only_the_list_for_htmx(agent_a_client, varied):
    response = agent_a_client.get(
        "/?status=pending", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list-wrap"
    )
    html = response.content.decode()

    assert html.lstrip().startswith('<ul id="inbox-list"')
    assert 'data-filters="status=pending"' in html


def test_without_javascript_older_conversations_are_a_link_to_the_next_page(agent_a_client, app_a):
    rows = [make_conversation(app_a, at=ago(minutes=i)) for i in range(35)]

    first = agent_a_client.get("/").content.decode()
    link = re.search(r'<a href="/\?before=([\d-]+)">Older conversations</a>', first)
    second = agent_a_client.get(f"/?before={link.group(1)}").content.decode()

    assert f'id="conv-{rows[29].pk}"' in first and f'id="conv-{rows[30].pk}"' not in first
    assert f'id="conv-{rows[30].pk}"' in second and f'id="conv-{rows[29].pk}"' not in second
    assert "<html" in second
