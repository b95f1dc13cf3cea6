"""The tab's title names the contact of the open thread, also after opening another one in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import open_inbox, open_thread
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.browser


def test_the_title_carries_the_open_threads_contact_name(open_browser, app_a, agent_a) -> None:
    joana = make_conversation(app_a, name="Joana Silva")
    make_conversation(app_a, name="Pedro Souza")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    expect(desk.page).to_have_title("Inbox · Hubdash")
    open_thread(desk.page, "Pedro Souza")  # swapped in by htmx, not a page load
    expect(desk.page).to_have_title("Pedro Souza · Inbox · Hubdash")
    open_inbox(desk.page, f"/conversations/{joana.pk}/")  # a full page
    expect(desk.page).to_have_title("Joana Silva · Inbox · Hubdash")
