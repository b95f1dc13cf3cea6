"""A dropped connection loses nothing: after the server restarts, or the websocket is cut while
messages arrive, the thread shows every message once (bubbles counted by data-message-id)."""

import pytest
from playwright.sync_api import expect

from conversations.models import Message
from tests.browser.browser_support import (
    bubble_with,
    changes,
    customer_writes,
    message_ids,
    open_inbox,
    open_thread,
    record_changes,
    row_for,
)

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"
# The page's own reconnect backoff tops out at 4 s; a restarted daphne needs a second or two.
RECONNECTED_WITHIN = 15_000


def _stored_ids() -> list[str]:
    return [
        str(pk)
        for pk in Message.objects.filter(conversation__contact__external_id=CUSTOMER).values_list(
            "pk", flat=True
        )
    ]


def _assert_every_message_once(page) -> None:
    shown = message_ids(page)
    assert len(shown) == len(set(shown)), f"a message is shown twice: {shown}"
    assert sorted(shown, key=int) == sorted(_stored_ids(), key=int), "the thread is missing messages"


def test_after_a_server_restart_the_thread_shows_every_message_once(
    open_browser, hub_a, app_a, agent_a, stack
):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Bom dia, tudo bem?")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)
    record_changes(desk.page, "connection", "#connection-state", "data-state")
    # While daphne is down, Chromium reports the refused reconnects and htmx logs each socket error event
    # on the console: expected here, and only here.
    desk.watch.allow(r"WebSocket connection to .* failed")
    desk.watch.allow(r"^console: \[object Event\] \(.*/htmx-[\d.]+\.min\.js\)$")
    # A live frame drawn just before the restart may ask for the icon sprite while daphne is down.
    desk.watch.allow(
        r"^console: Failed to load resource: net::ERR_CONNECTION_(REFUSED|RESET) \(.*/static/icons\.svg"
    )

    stack.daphne.restart()  # SIGKILL: a crash, the socket drops without a goodbye
    # Messages arrive at the new server while the page is still reconnecting.
    for n in range(3):
        customer_writes(hub_a, whatsapp, CUSTOMER, f"Enquanto reconecta {n}")

    state = desk.page.locator("#connection-state")
    expect(state).to_have_attribute("data-state", "live", timeout=RECONNECTED_WITHIN)
    assert "reconnecting" in changes(desk.page, "connection"), "the page never noticed the drop"
    for n in range(3):
        expect(bubble_with(desk.page, f"Enquanto reconecta {n}")).to_have_count(1)
    # And live updates flow again on the new connection.
    customer_writes(hub_a, whatsapp, CUSTOMER, "Depois da reconexão")
    expect(bubble_with(desk.page, "Depois da reconexão")).to_have_count(1)
    expect(row_for(desk.page, CUSTOMER).locator(".conv-preview")).to_contain_text("Depois da reconexão")
    _assert_every_message_once(desk.page)


class CuttableSocket:
    """The page's websocket routed through Playwright, so a test can cut it and refuse reconnects.

    The server stays up and stores every message meanwhile; only this page stops hearing about them.
    """

    def __init__(self, page) -> None:
        self.refusing = False
        self.routes: list = []
        page.route_web_socket("**/ws/inbox/", self._route)

    def _route(self, ws) -> None:
        if self.refusing:
            ws.close(code=1013)  # "try again later": the page keeps retrying, with backoff
            return
        ws.connect_to_server()  # forwards both ways until closed
        self.routes.append(ws)

    def cut(self) -> None:
        self.refusing = True
        self.routes[-1].close(code=1012)

    def restore(self) -> None:
        self.refusing = False


def test_messages_that_arrive_while_the_websocket_is_cut_appear_once_after_reconnect(
    open_browser, hub_a, app_a, agent_a
):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Bom dia, tudo bem?")
    desk = open_browser(agent_a)
    socket = CuttableSocket(desk.page)
    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)
    state = desk.page.locator("#connection-state")

    socket.cut()
    expect(state).to_have_attribute("data-state", "reconnecting")
    for n in range(3):
        customer_writes(hub_a, whatsapp, CUSTOMER, f"Sem conexão {n}")
    expect(bubble_with(desk.page, "Sem conexão 0")).to_have_count(0)  # really cut: nothing came through
    socket.restore()

    expect(state).to_have_attribute("data-state", "live", timeout=RECONNECTED_WITHIN)
    for n in range(3):
        expect(bubble_with(desk.page, f"Sem conexão {n}")).to_have_count(1)
    expect(row_for(desk.page, CUSTOMER).locator(".conv-preview")).to_contain_text("Sem conexão 2")
    customer_writes(hub_a, whatsapp, CUSTOMER, "De volta")
    expect(bubble_with(desk.page, "De volta")).to_have_count(1)
    _assert_every_message_once(desk.page)
