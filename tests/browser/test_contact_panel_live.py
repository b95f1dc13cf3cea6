"""The contact panel between two agents, in real browsers: a colleague's notes and links appear in the
other agent's open thread without a reload, and never over notes the agent is writing."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import customer_writes, open_inbox, open_thread
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser

CUSTOMER = "5521912345670"
INSTAGRAM = "17841400000000009"


def two_desks(open_browser, hub_a, app_a, first, second, **options):
    """Both agents with the customer's thread open."""
    customer_writes(hub_a, app_a.channels.get(kind="whatsapp"), CUSTOMER, "Oi, preciso de ajuda")
    desks = [open_browser(first, **options), open_browser(second)]
    for desk in desks:
        open_inbox(desk.page)
        open_thread(desk.page, CUSTOMER)
        desk.page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
    return desks


def panel_of(desk):
    return desk.page.locator("#thread .contact-panel")


def save_notes(panel, text: str) -> None:
    field = panel.get_by_label("Notes")
    field.fill(text)
    panel.get_by_role("button", name="Save notes").click()
    expect(field).to_have_value(text)


def test_a_colleagues_notes_and_link_appear_in_the_other_agents_panel(
    open_browser, hub_a, app_a, agent_a, admin
):
    customer_writes(hub_a, app_a.channels.get(kind="instagram"), INSTAGRAM, "Oi pelo Instagram")
    alice, ada = two_desks(open_browser, hub_a, app_a, agent_a, admin)
    alices_panel, adas_panel = panel_of(alice), panel_of(ada)
    expect(alices_panel.get_by_label("Notes")).to_have_value("")

    save_notes(adas_panel, "Prefers <b>mornings</b>\nVIP")

    expect(alices_panel.get_by_label("Notes")).to_have_value("Prefers <b>mornings</b>\nVIP")  # as text
    expect(alices_panel.locator("b")).to_have_count(0)

    adas_panel.get_by_label("Link the same person on another channel").fill("178414")
    adas_panel.locator(".link-candidate [data-action=link]").click()

    linked = alices_panel.locator(".contact-linked-item", has_text=INSTAGRAM)
    expect(linked).to_have_count(1)
    expect(linked.locator(".kind-icon")).to_have_attribute("aria-label", "Instagram")
    assert alice.page.evaluate("window.__sameDocument === true")  # no reload


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_notes_being_written_are_kept_when_a_colleague_saves_theirs(
    open_browser, hub_a, app_a, agent_a, admin, scheme
):
    alice, ada = two_desks(open_browser, hub_a, app_a, agent_a, admin, color_scheme=scheme)
    alices_panel, adas_panel = panel_of(alice), panel_of(ada)
    field = alices_panel.get_by_label("Notes")
    field.click()
    field.press_sequentially("Call after 18h")
    conflict = alices_panel.locator("[data-role=notes-conflict]")
    expect(conflict).to_be_hidden()

    save_notes(adas_panel, "Asked for a refund")

    # The panel was drawn again (the line says a colleague saved), around the draft, keyboard and all.
    expect(conflict).to_be_visible()
    expect(field).to_have_value("Call after 18h")
    expect(field).to_be_focused()
    assert violations(alice.page) == []  # the line and its button, readable in either scheme
    field.press_sequentially(", not before")
    expect(field).to_have_value("Call after 18h, not before")

    alices_panel.get_by_role("button", name="Use their notes").click()
    expect(field).to_have_value("Asked for a refund")
    expect(conflict).to_be_hidden()
    assert alice.page.evaluate("window.__sameDocument === true")


def test_a_field_only_visited_takes_the_colleagues_notes_once_left(
    open_browser, hub_a, app_a, agent_a, admin
):
    alice, ada = two_desks(open_browser, hub_a, app_a, agent_a, admin)
    alices_panel, adas_panel = panel_of(alice), panel_of(ada)
    field = alices_panel.get_by_label("Notes")
    field.click()  # in the field, nothing typed yet

    save_notes(adas_panel, "Asked for a refund")

    expect(alices_panel.locator("[data-role=notes-conflict]")).to_be_visible()
    expect(field).to_have_value("")  # not changed under the caret
    expect(field).to_be_focused()
    alices_panel.get_by_label("Link the same person on another channel").click()  # leaves the notes
    expect(field).to_have_value("Asked for a refund")
    expect(alices_panel.locator("[data-role=notes-conflict]")).to_be_hidden()
    assert alice.page.evaluate("window.__sameDocument === true")
