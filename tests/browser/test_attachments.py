"""An agent drops a PDF into the composer: it is stored, and the Hub fetches those exact bytes."""

import hashlib

import pytest
from playwright.sync_api import expect

from conversations.models import Message
from tests.browser.browser_support import customer_writes, open_inbox, open_thread
from tests.inbox.test_uploads import PDF
from tests.support import wait_for

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"


def test_a_dropped_pdf_reaches_the_hub_as_a_link_serving_its_exact_bytes(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Pode mandar o boleto?")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)

    # What a drag from the desktop delivers: a drop event carrying the file.
    transfer = desk.page.evaluate_handle(
        """([bytes, name]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: "application/pdf" }));
            return transfer;
        }""",
        [list(PDF), "boleto.pdf"],
    )
    desk.page.dispatch_event("#composer-area", "drop", {"dataTransfer": transfer})
    expect(desk.page.locator("#composer [data-role=file-preview]")).to_contain_text("boleto.pdf")
    desk.page.locator("#composer textarea[name=text]").fill("Segue o boleto")
    desk.page.locator("#composer textarea[name=text]").press("Enter")

    bubble = desk.page.locator("#thread [data-direction=out]").filter(has_text="boleto.pdf")
    expect(bubble).to_have_count(1)
    expect(desk.page.locator("#composer [data-role=file-preview]")).to_be_hidden()

    def fetched():
        sends = hub_a.accepted_sends(channel_id=str(whatsapp.hub_channel_id))
        return sends[0] if sends else None

    send = wait_for(fetched, what="the Hub accepted the reply")
    assert send["content"]["filename"] == "boleto.pdf"
    assert send["media"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert send["media"]["contentType"] == "application/pdf"
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert send["content"]["documentUrl"] == reply.content["documentUrl"]
    assert reply.uploads.get().filename == "boleto.pdf"
