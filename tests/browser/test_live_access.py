"""A change of access reaches an open inbox at once: an agent given Application A sees its conversations
appear (and keep coming) without a reload, and sees them go when the access is revoked.

The grant and the revocation go through the product's action, from this process; its event travels
over Redis to the agent's socket in daphne, which re-joins its groups and sends the rebuilt list.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import ROWS, customer_writes, open_inbox, row_for, set_membership

pytestmark = pytest.mark.browser

A_CUSTOMER = "5511933330001"
A_TEXT = "Acme: quero trocar o endereço de entrega"
A_LATER = "Acme: e o número é 1500, apartamento 12"
B_CUSTOMER = "5511944440002"
B_TEXT = "Bravo: meu cupom não funcionou"
A_AFTER = "Acme: alguém ainda está aí?"
B_LATER = "Bravo: já consegui, obrigado"


def test_access_granted_and_revoked_while_the_inbox_is_open(
    open_browser, hub_ab, app_a, app_b, agent_b, admin
):
    customer_writes(hub_ab, app_a.channels.get(kind="whatsapp"), A_CUSTOMER, A_TEXT)
    customer_writes(hub_ab, app_b.channels.get(kind="whatsapp"), B_CUSTOMER, B_TEXT)
    bob = open_browser(agent_b)
    sockets = []
    bob.page.on("websocket", lambda ws: sockets.append(ws.url))
    open_inbox(bob.page)
    expect(row_for(bob.page, B_CUSTOMER)).to_contain_text("cupom não funcionou")
    expect(bob.page.locator(ROWS)).to_have_count(1)  # only B: A's conversation is not his yet
    # No reload may happen in between: a navigation would wipe this mark.
    bob.page.evaluate("window.__sameDocument = true")

    set_membership(actor=admin, user=agent_b, application=app_a, role="agent")

    a_row = row_for(bob.page, A_CUSTOMER)
    expect(a_row.locator(".conv-preview")).to_contain_text("trocar o endereço")
    expect(bob.page.locator(ROWS)).to_have_count(2)
    expect(row_for(bob.page, B_CUSTOMER)).to_contain_text("cupom não funcionou")
    expect(bob.page.locator("#connection-state")).to_have_attribute("data-state", "live")

    # His socket now follows A: the customer's next message arrives live in the same row.
    customer_writes(hub_ab, app_a.channels.get(kind="whatsapp"), A_CUSTOMER, A_LATER)
    expect(a_row.locator(".conv-preview")).to_contain_text("apartamento 12")
    expect(bob.page.locator(ROWS)).to_have_count(2)

    set_membership(actor=admin, user=agent_b, application=app_a, role=None)

    expect(row_for(bob.page, A_CUSTOMER)).to_have_count(0)
    expect(bob.page.locator(ROWS)).to_have_count(1)
    expect(row_for(bob.page, B_CUSTOMER)).to_contain_text("cupom não funcionou")
    expect(bob.page.locator("#connection-state")).to_have_attribute("data-state", "live")

    # And his socket left A: A's next message stays out, while B's, sent after it, arrives.
    frames_before = len(bob.watch.frames)
    customer_writes(hub_ab, app_a.channels.get(kind="whatsapp"), A_CUSTOMER, A_AFTER)
    customer_writes(hub_ab, app_b.channels.get(kind="whatsapp"), B_CUSTOMER, B_LATER)
    expect(row_for(bob.page, B_CUSTOMER).locator(".conv-preview")).to_contain_text("já consegui")
    expect(bob.page.locator(ROWS)).to_have_count(1)
    assert not [f for f in bob.watch.frames[frames_before:] if "alguém ainda está aí" in f]

    # All of it on the page and the socket he opened first: no reload, and no reconnect, whose resync
    # would also have brought the rows (so only the live access change can have done it).
    assert bob.page.evaluate("window.__sameDocument === true"), "the inbox was reloaded"
    assert len(sockets) == 1, f"the inbox opened {len(sockets)} websockets"
