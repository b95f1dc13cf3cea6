"""An agent's reply shows at once as pending, then its ticks follow what the Hub reports."""

import pytest
from playwright.sync_api import expect

from conversations.models import Message
from tests.browser.browser_support import (
    bubble_with,
    changes,
    customer_writes,
    open_inbox,
    open_thread,
    record_changes,
    send_reply,
)

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"
ORDER = ["pending", "enqueued", "sent", "delivered", "read"]
TICK_LABELS = {
    "pending": "Sending",
    "enqueued": "Queued at the Hub",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
}


def test_reply_appears_at_once_then_ticks_go_sent_delivered_read(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Vocês aceitam PIX?")
    desk = open_browser(agent_a)
    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)
    record_changes(desk.page, "status", "#thread [data-message-id][data-direction=out]", "data-status")
    record_changes(desk.page, "ticks", "#thread [data-direction=out] .ticks", "aria-label")

    send_reply(desk.page, "Sim, aceitamos PIX!")

    bubble = bubble_with(desk.page, "Sim, aceitamos PIX!")
    expect(bubble).to_have_count(1, timeout=1_000)
    expect(bubble).to_have_attribute("data-direction", "out")
    expect(desk.page.locator("#composer textarea[name=text]")).to_have_value("")
    # The Hub reports sent, delivered and read (sandbox statusDelaysMs): the ticks follow live.
    expect(bubble.locator(".ticks")).to_have_attribute("aria-label", "Read", timeout=10_000)

    element_id = bubble.get_attribute("id")
    seen = changes(desk.page, "status", element_id)
    assert seen[0] == "pending", f"the reply first showed as {seen[0]!r}"
    assert seen == sorted(seen, key=ORDER.index), f"statuses went backwards: {seen}"
    assert {"sent", "delivered", "read"} <= set(seen), f"a step was skipped on screen: {seen}"
    assert changes(desk.page, "ticks") == [TICK_LABELS[status] for status in seen]
    reply = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert element_id == f"msg-{reply.pk}" and reply.status == Message.Status.READ
    assert reply.author == agent_a
    # One send reached the Hub for one reply.
    assert len(hub_a.accepted_sends(channel_id=str(whatsapp.hub_channel_id))) == 1
