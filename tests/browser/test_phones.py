"""On a 360 or 390 px phone no page scrolls sideways, the navigation folds into a menu, and the delivery
review's, canned replies' and channels' tables become one card per row."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pytest
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
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
    rows = desk.page.locator("table.table-cards tbody tr")
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
        wide.page.locator("table.table-cards tbody tr").first.evaluate("el => getComputedStyle(el).display")
        == "table-row"
    )


def _assert_cards(page: Any, table: Any, labels: list[str]) -> None:
    """Each row of `table` is a card inside its wrapper and the viewport: its cells stacked one under the
    other, each showing its column's name (the ::before drawn from data-label) in the order `labels`."""
    wrap = table.locator("xpath=..")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), (
        "the table scrolls sideways in its wrapper"
    )
    rows = table.locator("tbody tr")
    assert rows.count() > 0
    for row in rows.all():
        assert row.evaluate("el => getComputedStyle(el).display") == "block"
        cells = row.evaluate(
            """row => [...row.children].map(cell => {
                const box = cell.getBoundingClientRect();
                const before = getComputedStyle(cell, "::before");
                return {label: cell.dataset.label, shown: before.display !== "none" ? before.content : "",
                        top: box.top, bottom: box.bottom, left: box.left, right: box.right};
            })"""
        )
        assert [cell["label"] for cell in cells] == labels
        assert [cell["shown"] for cell in cells] == [f'"{label}"' for label in labels]
        for above, below in pairwise(cells):
            assert below["top"] >= above["bottom"] - 1, "cells side by side, not stacked"
        assert all(cell["left"] >= 0 and cell["right"] <= 390 for cell in cells)


def _assert_reachable(page: Any, control: Any) -> None:
    """`control` is shown whole inside the viewport and is what a tap at its centre lands on."""
    control.scroll_into_view_if_needed()
    expect(control).to_be_visible()
    box = control.bounding_box()
    height = page.viewport_size["height"]
    # Whole inside the viewport, give or take the fraction of a pixel a scroll leaves at its edge.
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert box["y"] >= -1 and box["y"] + box["height"] <= height + 1
    assert control.evaluate(
        "(el, [x, y]) => el.contains(document.elementFromPoint(x, y))",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    ), "something else (or nothing, clipped) is under the control's centre"
    control.click(trial=True)


def test_the_canned_replies_and_channels_tables_become_cards_on_a_phone(open_browser, app_a, admin) -> None:
    do_create_canned_reply(
        actor=admin,
        application=app_a,
        code="hello",
        title="Greeting",
        body="Hello {{contact.name}}, thanks for writing to us.\nHow can we help you today?",
        shared=True,
    )
    do_create_canned_reply(
        actor=admin, application=app_a, code="bye", title="Farewell", body="Bye for now!", shared=False
    )
    desk = open_browser(admin, viewport={"width": 390, "height": 780})

    desk.page.goto(f"/settings/applications/{app_a.pk}/canned-replies/")
    canned = desk.page.locator("section[aria-labelledby=canned-title] table")
    _assert_cards(desk.page, canned, ["Code", "Title", "Reply", "For", "Actions"])
    for row in canned.locator("tbody tr").all():
        _assert_reachable(desk.page, row.get_by_role("link", name="Edit"))
        _assert_reachable(desk.page, row.get_by_role("button", name="Delete"))
    canned.locator("tr[data-canned=hello]").get_by_role("link", name="Edit").click()
    expect(desk.page).to_have_url(re.compile(r"/canned-replies/\d+/"))
    expect(desk.page.get_by_role("heading", level=1)).to_have_text("/hello")

    desk.page.goto(f"/settings/applications/{app_a.pk}/")
    channels = desk.page.locator("section[aria-labelledby=channels-title] table")
    expect(channels.locator("tbody tr.channel-row")).to_have_count(app_a.channels.count())
    _assert_cards(
        desk.page, channels, ["Channel", "Kind", "Hub channel UUID", "Recipient (to) format", "State"]
    )
    # A channel's row has one action: its name opens the channel (where it is edited or deactivated).
    for row in channels.locator("tbody tr").all():
        _assert_reachable(desk.page, row.get_by_role("link"))
    first = channels.locator("tbody tr").first.get_by_role("link")
    name = first.inner_text()
    first.click()
    expect(desk.page.locator("#channel-title")).to_contain_text(name)

    # The column names are the page's language.
    do_update_preferences(actor=admin, language="pt-br", time_zone="America/Sao_Paulo")
    desk.page.goto(f"/settings/applications/{app_a.pk}/canned-replies/")
    _assert_cards(desk.page, canned, ["Código", "Título", "Resposta", "Para", "Ações"])

    # Control: a desktop keeps both tables.
    wide = open_browser(admin)
    for path in (f"/settings/applications/{app_a.pk}/canned-replies/", f"/settings/applications/{app_a.pk}/"):
        wide.page.goto(path)
        assert (
            wide.page.locator("table.table-cards tbody tr").first.evaluate(
                "el => getComputedStyle(el).display"
            )
            == "table-row"
        )
