"""A customer writes: the agent's open inbox and thread show it without a reload, within a second.

The second is measured from the moment the Hub sandbox's webhook delivery returns (our server has
stored the message and answered 200) to the moment the page's DOM holds it.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    BUBBLES,
    ROWS,
    bubble_with,
    customer_writes,
    first_appearance,
    message_ids,
    open_inbox,
    open_thread,
    record_first_appearance,
    row_for,
)

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"
LATENCY_BUDGET = 1.0  # seconds: a user-visible requirement of the inbox


def test_new_customer_message_appears_in_the_open_inbox_within_a_second(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    record_first_appearance(desk.page, ROWS, "Meu pedido ainda não chegou")

    delivered_at = customer_writes(hub_a, whatsapp, CUSTOMER, "Meu pedido ainda não chegou")

    row = row_for(desk.page, CUSTOMER)
    expect(row.locator(".conv-preview")).to_contain_text("Meu pedido ainda não chegou")
    latency = first_appearance(desk.page, "Meu pedido ainda não chegou") - delivered_at
    assert latency < LATENCY_BUDGET, f"the row appeared {latency:.3f} s after the webhook was answered"
    expect(row).to_have_class(re.compile(r"\bis-unread\b"))
    expect(row.locator(".kind-icon")).to_have_attribute("aria-label", "WhatsApp")


def test_customer_message_appears_in_the_open_thread_within_a_second(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Olá! Quero saber o prazo de entrega")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)
    expect(bubble_with(desk.page, "prazo de entrega")).to_have_count(1)
    record_first_appearance(desk.page, BUBBLES, "É para o CEP 20040-020")

    delivered_at = customer_writes(hub_a, whatsapp, CUSTOMER, "É para o CEP 20040-020")

    bubble = bubble_with(desk.page, "É para o CEP 20040-020")
    expect(bubble).to_have_attribute("data-direction", "in")
    latency = first_appearance(desk.page, "É para o CEP 20040-020") - delivered_at
    assert latency < LATENCY_BUDGET, f"the bubble appeared {latency:.3f} s after the webhook was answered"
    # Oldest first, the new one last; and the list row shows it as the latest message too.
    expect(desk.page.locator(BUBBLES).last).to_contain_text("É para o CEP 20040-020")
    expect(row_for(desk.page, CUSTOMER).locator(".conv-preview")).to_contain_text("CEP 20040-020")
    assert len(message_ids(desk.page)) == 2
