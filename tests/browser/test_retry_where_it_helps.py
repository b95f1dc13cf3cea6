"""A reply the channel refused for its content offers "Edit and resend", never a Retry that cannot help."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import bubble_with, customer_writes, open_inbox, open_thread, send_reply

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"


def test_a_permanent_failure_shows_edit_and_resend_and_no_retry(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    hub_a.configure(
        failingRecipients={
            CUSTOMER: {"errorCode": "131026", "errorMessage": "Recipient is not a WhatsApp user"}
        }
    )
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)

    send_reply(desk.page, "Seu pedido saiu")

    bubble = bubble_with(desk.page, "Seu pedido saiu")
    expect(bubble).to_have_attribute("data-status", "failed", timeout=10_000)
    expect(bubble.locator(".msg-error")).to_contain_text("Recipient is not a WhatsApp user")
    expect(bubble.locator("[data-action=retry]")).to_have_count(0)
    resend = bubble.get_by_role("button", name="Edit and resend")
    expect(resend).to_be_visible()

    resend.click()
    composer = desk.page.locator("#composer textarea[name=text]")
    expect(composer).to_have_value("Seu pedido saiu")
    expect(composer).to_be_focused()
