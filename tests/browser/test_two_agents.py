"""Two agents of one Application, at two desks (two browser contexts), see each other's replies live."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    bubble_with,
    customer_writes,
    message_ids,
    open_inbox,
    open_thread,
    row_for,
    send_reply,
)

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"


def test_two_agents_see_each_others_replies_live(open_browser, hub_a, app_a, agent_a, admin):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Preciso trocar o tamanho da camiseta")
    alice = open_browser(agent_a)
    ada = open_browser(admin)
    for desk in (alice, ada):
        open_inbox(desk.page)
        open_thread(desk.page, CUSTOMER)

    send_reply(alice.page, "Claro! Qual tamanho você prefere?")

    from_alice = bubble_with(ada.page, "Qual tamanho você prefere?")
    expect(from_alice).to_have_attribute("data-direction", "out")
    expect(from_alice.locator(".msg-author")).to_contain_text("Alice")

    send_reply(ada.page, "Já separei o tamanho M para você.")

    from_ada = bubble_with(alice.page, "tamanho M para você")
    expect(from_ada.locator(".msg-author")).to_contain_text("Ada")
    # The other desk's list row follows as well: the last message is Ada's, sent as an agent.
    expect(row_for(alice.page, CUSTOMER).locator(".conv-preview")).to_contain_text("tamanho M para você")
    # Both desks show the same three messages, each once, in the same order.
    for desk in (alice, ada):
        expect(bubble_with(desk.page, "tamanho M para você")).to_have_count(1)
        expect(bubble_with(desk.page, "Qual tamanho você prefere?")).to_have_count(1)
    assert message_ids(alice.page) == message_ids(ada.page)
    assert len(set(message_ids(alice.page))) == 3
