"""The template picker: search, a field per variable, a live preview; the bubble shows the sent text."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import customer_writes, open_inbox, open_thread

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"


def test_the_picker_sends_a_template_whose_rendered_text_shows_in_the_bubble(
    open_browser, hub_a, app_a, agent_a
):
    whatsapp = app_a.channels.get(kind="whatsapp")
    whatsapp.templates.create(
        hub_template_id="9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34", name="order_shipped", language="pt_BR",
        category="UTILITY", header="Pedido enviado", body="Olá {{1}}, seu pedido {{2}} saiu hoje.",
    )  # fmt: skip
    whatsapp.templates.create(
        hub_template_id="1c2d3e4f-55f0-4e3b-8d7a-2c6f1e0a9d34", name="welcome", language="en_US",
        category="MARKETING", body="Welcome!",
    )  # fmt: skip
    customer_writes(hub_a, whatsapp, CUSTOMER, "Cadê meu pedido?")
    desk = open_browser(agent_a)
    page = desk.page
    open_inbox(page)
    open_thread(page, CUSTOMER)

    page.get_by_role("button", name="Use a template").click()
    page.get_by_label("Find a template").fill("order")
    expect(page.locator("#template-pick option", has_text="welcome")).to_be_hidden()
    page.get_by_label("Template", exact=True).select_option(label="order_shipped")
    preview = page.locator("#template-form [data-role=template-preview]")
    expect(preview).to_contain_text("Olá {{1}}, seu pedido {{2}} saiu hoje.")

    page.get_by_label("Variable {{1}}").fill("Maria")
    page.get_by_role("button", name="Send template").click()  # {{2}} is empty: the browser refuses
    expect(preview).to_contain_text("Olá Maria, seu pedido {{2}} saiu hoje.")
    assert not hub_a.accepted_sends()

    page.get_by_label("Variable {{2}}").fill("#A-77")
    expect(preview).to_contain_text("Olá Maria, seu pedido #A-77 saiu hoje.")
    page.get_by_role("button", name="Send template").click()

    bubble = page.locator("#thread [data-direction=out]")
    expect(bubble).to_contain_text("Olá Maria, seu pedido #A-77 saiu hoje.")
    expect(bubble.locator(".template-badge")).to_have_text("Template")
    expect(bubble).not_to_contain_text("9b1e4c2a")
