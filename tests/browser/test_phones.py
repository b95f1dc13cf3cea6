"""On a 360 or 390 px phone no page scrolls sideways, the navigation folds into a menu, and the delivery
review's table becomes one card per reply."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from conversations.actions.canned import do_create_canned_reply
from tests.browser.browser_support import open_inbox
from tests.browser.test_accessibility import _thread_with_replies

pytestmark = pytest.mark.browser


def scroll_width(page: Any) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("width", [360, 390])
def test_no_page_scrolls_sideways_on_a_phone(open_browser, app_a, admin, width) -> None:
    # Pages are only as wide as what they hold: a thread with replies fills the reports' tables (a row
    # per channel) and the review; a shared canned reply fills its table, with its Edit/Delete column.
    conversation = _thread_with_replies(app_a, admin)
    do_create_canned_reply(
        actor=admin,
        application=app_a,
        code="hello",
        title="Greeting",
        body="Hello {{contact.name}}, thanks for writing to us. How can we help you today?",
        shared=True,
    )
    desk = open_browser(admin, viewport={"width": width, "height": 780})
    visitor = open_browser(None, viewport={"width": width, "height": 780})
    paths = [
        "/review/",
        "/reports/",
        "/reports/volume/",
        "/reports/delivery/",
        "/reports/agents/",
        "/reports/conversations/?figure=opened",
        f"/settings/applications/{app_a.pk}/canned-replies/",
        f"/settings/applications/{app_a.pk}/labels/",
        "/settings/",
        f"/settings/applications/{app_a.pk}/",
        f"/settings/applications/{app_a.pk}/webhooks/",
        "/settings/team/",
        "/settings/audit/",
        "/settings/health/",
        "/applications/",
        "/profile/",
        "/accounts/password_change/",
    ]
    wide: dict[str, int] = {}
    open_inbox(desk.page)
    wide["/"] = scroll_width(desk.page)
    open_inbox(desk.page, f"/conversations/{conversation.pk}/")
    wide["thread"] = scroll_width(desk.page)
    for path in paths:
        desk.page.goto(path)
        wide[path] = scroll_width(desk.page)
    visitor.page.goto("/accounts/login/")
    wide["login"] = scroll_width(visitor.page)

    assert {page: w for page, w in wide.items() if w > width} == {}


def test_the_navigation_folds_into_a_menu_on_a_phone(open_browser, app_a, admin) -> None:
    desk = open_browser(admin, viewport={"width": 390, "height": 780})
    desk.page.goto("/settings/")
    menu = desk.page.get_by_role("button", name="Menu")
    settings_link = desk.page.locator(".topnav").get_by_role("link", name="Settings")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(settings_link).to_be_hidden()
    # By keyboard: focus the menu button and press Enter.
    menu.focus()
    desk.page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(settings_link).to_be_visible()
    box = settings_link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    desk.page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(settings_link).to_be_hidden()
    # Control: on a desktop the links are simply there, and there is no menu button.
    wide = open_browser(admin)
    wide.page.goto("/settings/")
    expect(wide.page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(wide.page.locator(".topnav").get_by_role("link", name="Settings")).to_be_visible()


def test_the_review_table_becomes_cards_on_a_phone(open_browser, app_a, admin) -> None:
    _thread_with_replies(app_a, admin)
    desk = open_browser(admin, viewport={"width": 390, "height": 780})
    desk.page.goto("/review/")
    rows = desk.page.locator("table.review-rows tbody tr")
    expect(rows).to_have_count(2)
    first = rows.first
    assert first.evaluate("el => getComputedStyle(el).display") == "block"
    box = first.bounding_box()
    assert box is not None and box["width"] <= 390
    # Each value carries its column's name, since the header row is not shown.
    status = first.locator("td[data-label]").filter(has=desk.page.locator(".pill"))
    expect(status).to_have_attribute("data-label", "Status")
    # Control: a desktop keeps the table.
    wide = open_browser(admin)
    wide.page.goto("/review/")
    assert (
        wide.page.locator("table.review-rows tbody tr").first.evaluate("el => getComputedStyle(el).display")
        == "table-row"
    )
