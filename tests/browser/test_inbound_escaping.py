"""Whatever a customer types is shown as text: markup in a message never runs or renders."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import bubble_with, customer_writes, open_inbox, open_thread, row_for

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
]


def _shown_as_text(desk, requested: list[str]) -> None:
    for text in HOSTILE:
        bubble = bubble_with(desk.page, text)
        expect(bubble).to_have_count(1)
        expect(bubble.locator(".msg-text")).to_have_text(text)
    thread = desk.page.locator("#thread")
    expect(thread.locator("script")).to_have_count(0)
    expect(thread.locator("img[src='x'], svg[onload]")).to_have_count(0)
    assert not [url for url in requested if url.endswith("/x")], "the injected <img> was loaded"
    assert desk.watch.dialogs == [], "an injected script opened a dialog"


def test_markup_in_customer_messages_shows_as_text_live_and_after_reload(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    desk = open_browser(agent_a)
    requested: list[str] = []
    desk.page.on("request", lambda request: requested.append(request.url))
    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)

    # Live: arriving through the websocket while the thread is open.
    for text in HOSTILE:
        customer_writes(hub_a, whatsapp, CUSTOMER, text)
    _shown_as_text(desk, requested)
    expect(row_for(desk.page, CUSTOMER).locator(".conv-preview")).to_contain_text(HOSTILE[-1])

    # Server-rendered: the same thread loaded as a page.
    desk.page.reload()
    expect(desk.page.locator("#connection-state")).to_have_attribute("data-state", "live")
    _shown_as_text(desk, requested)
    expect(row_for(desk.page, CUSTOMER).locator(".conv-preview")).to_contain_text(HOSTILE[-1])
