"""An agent of Application A never sees Application B's conversations: not in pages, not in search,
not in a single websocket frame."""

import re

import pytest
from playwright.sync_api import expect

from conversations.models import Conversation
from tests.browser.browser_support import ROWS, customer_writes, open_inbox, row_for

pytestmark = pytest.mark.browser

A_CUSTOMER = "5511922220000"
A_TEXT = "Acme: posso pagar com boleto?"
B_CUSTOMER = "5511911114711"
B_TEXT = "Bravo secret: pedido 4711 com desconto"


def test_agent_of_a_sees_nothing_of_application_b(open_browser, hub_ab, app_a, app_b, agent_a, agent_b):
    alice = open_browser(agent_a)
    open_inbox(alice.page)
    bob = open_browser(agent_b)
    open_inbox(bob.page)

    customer_writes(hub_ab, app_b.channels.get(kind="whatsapp"), B_CUSTOMER, B_TEXT)
    customer_writes(hub_ab, app_a.channels.get(kind="whatsapp"), A_CUSTOMER, A_TEXT)

    # Positive controls: B's message reached B's agent live, and Alice's socket does carry A's frames.
    expect(row_for(bob.page, B_CUSTOMER)).to_contain_text("pedido 4711")
    expect(row_for(alice.page, A_CUSTOMER)).to_contain_text("posso pagar com boleto")
    expect(alice.page.locator(ROWS)).to_have_count(1)
    assert any("posso pagar com boleto" in frame for frame in alice.watch.frames)

    conversation_b = Conversation.objects.get(contact__external_id=B_CUSTOMER)
    # What would give B away: its text, its customer's number, its name, its conversation's row.
    secrets = ["Bravo secret", "4711", B_CUSTOMER, app_b.name, f'id="conv-{conversation_b.pk}"']
    _assert_none_seen(alice, secrets)

    # Search: A's own conversation is found; B's is not, even by its exact words or number.
    search = alice.page.locator("#inbox-search")
    search.fill("boleto")
    expect(alice.page.locator(ROWS)).to_have_count(1)
    for query in ("4711", B_CUSTOMER):
        search.fill(query)
        expect(alice.page).to_have_url(re.compile(rf"[?&]q={query}"))
        expect(alice.page.locator(ROWS)).to_have_count(0)

    # Pages: B's thread answers 404 to Alice, with nothing of B in it.
    response = alice.context.request.get(f"/conversations/{conversation_b.pk}/")
    assert response.status == 404
    assert not [secret for secret in secrets if secret in response.text()]

    # Alice typed "4711" and B's number into the search box herself: from here on, only what she never
    # typed can be looked for in her page and frames.
    _assert_none_seen(alice, ["Bravo secret", app_b.name, f'id="conv-{conversation_b.pk}"'])


def _assert_none_seen(desk, secrets: list[str]) -> None:
    for secret in secrets:
        assert not [frame for frame in desk.watch.frames if secret in frame], f"{secret!r} reached the socket"
        assert secret not in desk.page.content(), f"{secret!r} is in the page"
