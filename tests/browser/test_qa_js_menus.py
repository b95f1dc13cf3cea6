"""The thread header's menus, snooze (z) and labels (l), close as menus do: Esc (the focus back on their
button), a click outside, a choice; and the snooze menu fits on a phone's screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conversations.models import Label
from tests.browser.browser_support import open_inbox
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _closed(menu) -> None:
    expect(menu).not_to_have_attribute("open", "")
    expect(menu.locator("form")).to_be_hidden()


def test_the_snooze_menu_closes_on_esc_a_click_outside_and_a_choice(open_browser, app_a, agent_a) -> None:
    conversation = make_conversation(app_a, name="Renata")
    desk = open_browser(agent_a)
    page = desk.page
    open_inbox(page, f"/conversations/{conversation.pk}/")
    menu = page.locator(".thread-header details.snooze-menu")
    button = menu.locator("summary")

    page.keyboard.press("z")
    expect(menu.locator("[data-snooze=tomorrow]")).to_be_visible()  # the control: z opens it
    page.keyboard.press("Escape")
    _closed(menu)
    expect(button).to_be_focused()

    page.keyboard.press("z")
    page.locator(".snooze-form input[name=until]").focus()  # Esc from its field closes it too
    page.keyboard.press("Escape")
    _closed(menu)
    expect(button).to_be_focused()

    button.click()
    expect(menu.locator("[data-snooze=tomorrow]")).to_be_visible()
    page.locator("#thread-title").click()
    _closed(menu)

    page.keyboard.press("z")
    menu.locator("[data-snooze=tomorrow]").click()
    expect(page.locator(".thread-header .status-pill")).to_have_text("Snoozed")
    _closed(page.locator(".thread-header details.snooze-menu"))  # the header the answer redrew


def test_the_labels_menu_closes_on_esc_a_click_outside_and_a_choice(open_browser, app_a, agent_a) -> None:
    Label.objects.create(application=app_a, name="VIP", colour=Label.COLOURS[0][0])
    conversation = make_conversation(app_a, name="Renata")
    desk = open_browser(agent_a)
    page = desk.page
    open_inbox(page, f"/conversations/{conversation.pk}/")
    menu = page.locator(".thread-header details.label-menu")
    toggle = menu.locator(".label-toggle", has_text="VIP")

    page.keyboard.press("l")
    expect(toggle).to_be_focused()  # the control: l opens it
    page.keyboard.press("Escape")
    _closed(menu)
    expect(menu.locator("summary")).to_be_focused()

    menu.locator("summary").click()
    expect(toggle).to_be_visible()
    page.locator("#thread .thread-messages").click()
    _closed(menu)

    page.keyboard.press("l")
    toggle.press("Enter")
    expect(page.locator(".thread-header .thread-labels > .label-chip")).to_have_text("VIP")
    _closed(page.locator(".thread-header details.label-menu"))


def test_the_snooze_menu_fits_on_a_phone(open_browser, app_a, agent_a) -> None:
    conversation = make_conversation(app_a, name="Renata")
    desk = open_browser(agent_a, viewport=PHONE)
    page = desk.page
    open_inbox(page, f"/conversations/{conversation.pk}/")

    page.locator(".thread-header [data-action=snooze]").click()

    presets = page.locator(".snooze-form [data-snooze]")
    expect(presets.first).to_be_visible()
    for box in [page.locator(".snooze-form").bounding_box()] + [
        presets.nth(i).bounding_box() for i in range(presets.count())
    ]:
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    # Every preset reads whole: nothing of its text is cut by the button's edges.
    clipped = presets.evaluate_all("els => els.filter(el => el.scrollWidth > el.clientWidth).length")
    assert clipped == 0
