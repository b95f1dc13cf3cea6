"""The team in the thread, in real browsers: notes with @mentions, canned replies, labels, activity
lines and who else is on the thread, live between two agents' tabs."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import (
    bubble_with,
    customer_writes,
    open_inbox,
    open_thread,
    send_reply,
)
from tests.support import wait_for

pytestmark = pytest.mark.browser

CUSTOMER = "5521912345678"


def two_desks(open_browser, hub_a, app_a, first, second, text="Oi, preciso de ajuda"):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, text)
    desks = [open_browser(first), open_browser(second)]
    for desk in desks:
        open_inbox(desk.page)
        open_thread(desk.page, CUSTOMER)
    return desks


def test_a_note_appears_in_the_other_agents_tab_and_is_never_sent_to_the_hub(
    open_browser, hub_a, app_a, agent_a, admin
):
    alice, ada = two_desks(open_browser, hub_a, app_a, agent_a, admin)

    alice.page.keyboard.press("n")
    box = alice.page.locator("#note-text")
    expect(box).to_be_focused()
    box.press_sequentially("@ad")
    expect(alice.page.locator("#mention-picker .picker-item").first).to_contain_text("@ada")
    box.press("Enter")  # picks the member
    box.press_sequentially("please check the refund <b>now</b>")
    box.press("Enter")  # adds the note

    note = ada.page.locator(".msg-note").filter(has_text="please check the refund")
    expect(note).to_have_count(1)
    expect(note.locator(".mention")).to_have_text("@ada")
    expect(note).to_contain_text("<b>now</b>")  # shown as text, not markup
    expect(ada.page.locator("#nav-mentions .nav-badge")).to_have_text("1")
    # The control: a reply sent after the note reaches the Hub, and it is the only thing that does.
    alice.page.locator("#mode-reply").click()
    send_reply(alice.page, "Claro, já vejo isso")
    expect(bubble_with(ada.page, "Claro, já vejo isso")).to_have_count(1)
    sends = wait_for(lambda: hub_a.accepted_sends() or None, timeout=20)
    assert [s["content"]["text"] for s in sends] == ["Claro, já vejo isso"]
