"""An agent of Application B never sees Application A's conversations: not in pages, not in search,
not in a single websocket frame."""

import re

import pytest
from playwright.sync_api import expect

from conversations.models import Conversation
from tests.browser.browser_support import ROWS, customer_writes, open_inbox, row_for

pytestmark = pytest.mark.browser

A_CUSTOMER = "5511911114711"
A_TEXT = "Acme secret: pedido 4711 com desconto"
B_CUSTOMER = "5511922220000"
B_TEXT = "Bravo: posso pagar com boleto?"


def test_agent_of_b_sees_nothing_of_application_a(open_browser, hub_ab, app_a, app_b, agent_a, agent_b):
    bob = open_browser(agent_b)
    open_inbox(bob.page)
    alice = open_browser(agent_a)
    open_inbox(alice.page)

    customer_writes(hub_ab, app_a.channels.get(kind="whatsapp"), A_CUSTOMER, A_TEXT)
    customer_writes(hub_ab, app_b.channels.get(kind="whatsapp"), B_CUSTOMER, B_TEXT)

    # Positive controls: A's message reached A's agent live, and Bob's socket does carry B's frames.
    expect(row_for(alice.page, A_CUSTOMER)).to_contain_text("pedido 4711")
    expect(row_for(bob.page, B_CUSTOMER)).to_contain_text("posso pagar com boleto")
    expect(bob.page.locator(ROWS)).to_have_count(1)
    assert any("posso pagar com boleto" in frame for frame in bob.watch.frames)

    conversation = Conversation.objects.get(contact__external_id=A_CUSTOMER)
    # What would give A away: its text, its customer's number, its name, its conversation's row.
    secrets = ["Acme secret", "4711", A_CUSTOMER, app_a.name, f'id="conv-{conversation.pk}"']
    _assert_nothing_of_a(bob, secrets)

    # Search: B's own conversation is found, A's is not, even by its exact words or number.
    search = bob.page.locator("#inbox-search")
    search.fill("boleto")
    expect(bob.page.locator(ROWS)).to_have_count(1)
    for query in ("4711", A_CUSTOMER):
        search.fill(query)
        expect(bob.page).to_have_url(re.compile(rf"[?&]q={query}"))
        expect(bob.page.locator(ROWS)).to_have_count(0)

    # Pages: A's thread answers 404 to Bob, with nothing of A in it.
    response = bob.context.request.get(f"/conversations/{conversation.pk}/")
    assert response.status == 404
    assert not [secret for secret in secrets if secret in response.text()]

    # Bob typed "4711" and A's number into the search box himself: only what he never typed can be
    # looked for in the page and frames from here on.
    _assert_nothing_of_a(bob, ["Acme secret", app_a.name, f'id="conv-{conversation.pk}"'])


def _assert_nothing_of_a(desk, secrets: list[str]) -> None:
    for secret in secrets:
        assert not [frame for frame in desk.watch.frames if secret in frame], f"{secret!r} reached the socket"
        assert secret not in desk.page.content(), f"{secret!r} is in the page"
