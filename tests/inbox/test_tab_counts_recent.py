"""A page's view tabs reuse its process's count of the last TAB_COUNTS_CACHE_SECONDS (one grouped query
that reads every open conversation); the tab's websocket sync, sent as soon as the page loads, counts
afresh (conversations/selectors/inbox.py `recent_count_groups`, live.py `render_sync`)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hubdash.asgi import application
from tests.inbox.inbox_support import connect, frames_until_quiet, make_conversation, sync_message
from tests.inbox.test_tab_counts_live import counts_in

pytestmark = pytest.mark.django_db(transaction=True)

A_LONG_WINDOW = 3600.0  # seconds: it does not close while a test runs


def page_counts(client) -> dict[str, int]:
    response = client.get("/")
    assert response.status_code == 200
    return counts_in([response.content.decode()])


def grouped_counts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"] and "COUNT(" in q["sql"]]


def synced_counts(user) -> dict[str, int]:
    async def scenario() -> list[str]:
        inbox = await connect(user, application)
        await inbox.send_json_to(sync_message())
        frames = await frames_until_quiet(inbox)
        await inbox.disconnect()
        return frames

    return counts_in(async_to_sync(scenario)())


def test_pages_within_the_window_count_once_and_the_sync_counts_afresh(
    settings, app_a, agent_a, agent_a_client
):
    settings.TAB_COUNTS_CACHE_SECONDS = A_LONG_WINDOW
    make_conversation(app_a)
    make_conversation(app_a, assignee=agent_a)

    with CaptureQueriesContext(connection) as first_page:
        first = page_counts(agent_a_client)
    make_conversation(app_a)  # a customer writes between two page loads
    with CaptureQueriesContext(connection) as second_page:
        second = page_counts(agent_a_client)

    assert first == {"mine": 1, "unassigned": 1, "all": 2}
    assert len(grouped_counts(first_page)) == 1
    # The second page drew the process's count of a moment ago, without the grouped query...
    assert second == first
    assert grouped_counts(second_page) == []
    # ...and its socket's sync, which the page sends as soon as it loads, shows the new conversation.
    assert synced_counts(agent_a) == {"mine": 1, "unassigned": 2, "all": 3}


def test_once_the_window_has_passed_a_page_counts_again(settings, app_a, agent_a_client):
    settings.TAB_COUNTS_CACHE_SECONDS = A_LONG_WINDOW
    make_conversation(app_a)
    assert page_counts(agent_a_client)["all"] == 1
    make_conversation(app_a)

    settings.TAB_COUNTS_CACHE_SECONDS = 1e-9  # the count above is older than this by now
    with CaptureQueriesContext(connection) as page:
        counts = page_counts(agent_a_client)

    assert counts["all"] == 2
    assert len(grouped_counts(page)) == 1


def test_a_count_is_reused_only_for_the_same_applications_and_status(
    settings, app_a, app_b, agent_a_client, agent_b_client
):
    settings.TAB_COUNTS_CACHE_SECONDS = A_LONG_WINDOW
    make_conversation(app_a)
    for _ in range(3):
        make_conversation(app_b)
    make_conversation(app_b, status="resolved")

    # Each agent sees only their own Application's conversations, counted for them.
    assert page_counts(agent_a_client)["all"] == 1
    assert page_counts(agent_b_client)["all"] == 3
    # Another status is another count.
    response = agent_b_client.get("/", {"status": "resolved"})
    assert counts_in([response.content.decode()])["all"] == 1
    assert page_counts(agent_a_client)["all"] == 1


def test_switched_off_every_page_counts(settings, app_a, agent_a_client):
    settings.TAB_COUNTS_CACHE_SECONDS = 0
    make_conversation(app_a)
    assert page_counts(agent_a_client)["all"] == 1
    make_conversation(app_a)
    with CaptureQueriesContext(connection) as page:
        assert page_counts(agent_a_client)["all"] == 2
    assert len(grouped_counts(page)) == 1
