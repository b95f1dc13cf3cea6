"""The team in the thread, in real browsers: notes with @mentions, canned replies, labels, activity
lines and who else is on the thread, live between two agents' tabs."""

import pytest
from playwright.sync_api import expect

from conversations.actions.canned import do_create_canned_reply
from conversations.actions.labels import do_create_label
from conversations.models import Contact
from tests.browser.browser_support import (
    bubble_with,
    customer_writes,
    open_inbox,
    open_thread,
    row_for,
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


def test_the_slash_picker_inserts_a_canned_reply_with_the_contacts_name(
    open_browser, hub_a, app_a, agent_a, admin
):
    do_create_canned_reply(
        actor=admin,
        application=app_a,
        code="hello",
        title="Greeting",
        body="Olá {{contact.name}}, aqui é {{agent.first_name}}!",
        shared=True,
    )
    do_create_canned_reply(
        actor=admin, application=app_a, code="bye", title="Goodbye", body="Tchau!", shared=True
    )
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    Contact.objects.filter(external_id=CUSTOMER).update(display_name="Maria Souza")
    alice = open_browser(agent_a)
    open_inbox(alice.page)
    open_thread(alice.page, "Maria Souza")
    box = alice.page.locator("#composer textarea[name=text]")

    box.press_sequentially("/he")
    options = alice.page.locator("#canned-picker .picker-item")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("/hello")
    box.press("Enter")  # picks it; does not send
    expect(box).to_have_value("Olá Maria Souza, aqui é Alice!")

    box.fill("")
    box.press_sequentially("/")
    expect(options).to_have_count(2)
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    options.filter(has_text="/hello").click()  # by mouse
    expect(box).to_have_value("Olá Maria Souza, aqui é Alice!")
    box.press("Enter")  # now it sends
    expect(bubble_with(alice.page, "Olá Maria Souza, aqui é Alice!")).to_have_count(1)


def test_a_label_added_in_one_tab_shows_on_the_row_in_another_and_the_filter_finds_it(
    open_browser, hub_a, app_a, agent_a, admin
):
    label = do_create_label(actor=admin, application=app_a, name="Billing", colour="#e03131")
    alice, ada = two_desks(open_browser, hub_a, app_a, agent_a, admin)
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, "5521900000001", "Outro cliente")  # the control: never labelled

    alice.page.keyboard.press("l")
    toggle = alice.page.locator(".label-menu .label-toggle", has_text="Billing")
    expect(toggle).to_be_focused()
    toggle.press("Enter")

    expect(row_for(ada.page, CUSTOMER).locator(".label-chip")).to_have_text("Billing")
    expect(ada.page.locator("#thread .thread-labels .label-chip").first).to_have_text("Billing")
    expect(ada.page.locator(".activity-line", has_text="Alice Agent added the label Billing")).to_have_count(
        1
    )

    open_inbox(ada.page, f"/?labels={label.pk}")
    expect(row_for(ada.page, CUSTOMER)).to_have_count(1)
    expect(row_for(ada.page, "5521900000001")).to_have_count(0)
    expect(ada.page.locator(".label-filter summary")).to_contain_text("1 label")


def test_alice_is_replying_appears_in_adas_tab_and_goes_after_she_stops(
    open_browser, hub_a, app_a, agent_a, admin
):
    alice, ada = two_desks(open_browser, hub_a, app_a, agent_a, admin)
    presence = ada.page.locator(".presence-item")
    expect(presence).to_have_text("Alice Agent is viewing", timeout=15_000)

    alice.page.locator("#composer textarea[name=text]").press_sequentially("Só um momento, por favor")

    expect(presence).to_have_text("Alice Agent is replying…")
    # She stops: 6 s later she is only viewing again (nothing was sent or stored).
    expect(presence).to_have_text("Alice Agent is viewing", timeout=15_000)
    # Each sees the other, never themselves.
    expect(alice.page.locator(".presence-item")).to_have_text("Ada Admin is viewing", timeout=15_000)
    expect(alice.page.locator(".presence-item", has_text="Alice")).to_have_count(0)


def test_an_activity_line_appears_live_on_assign(open_browser, hub_a, app_a, agent_a, admin):
    alice, ada = two_desks(open_browser, hub_a, app_a, agent_a, admin)

    alice.page.locator(".assign-select").select_option(label="Ada Admin")

    line = ada.page.locator(".activity-line", has_text="Alice Agent assigned this to Ada Admin")
    expect(line).to_have_count(1)
    # Between the bubbles, after the customer's message, and not unread.
    assert ada.page.locator("#thread [data-message-id]").last.get_attribute("data-direction") == "activity"
    expect(row_for(ada.page, CUSTOMER)).to_have_attribute("data-unread", "0")
