"""WCAG 2.1 AA by axe-core (axe-playwright-python ships it: nothing is downloaded): every main page has no
violation, in English and Portuguese, on a desktop and a phone, in light and dark mode."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
from conversations.models import Message
from tests.browser.browser_support import open_inbox
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.browser

AXE = Axe()
# WCAG 2.0 and 2.1, levels A and AA: what the issue asks for.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def violations(page: Any) -> list[str]:
    """One line per violated rule: its id, impact and the first elements it found."""
    results = AXE.run(page, options=AXE_OPTIONS)
    found = []
    for violation in results.response["violations"]:
        targets = [" ".join(node["target"]) for node in violation["nodes"][:4]]
        summaries = [node.get("failureSummary", "")[:160] for node in violation["nodes"][:1]]
        found.append(f"{violation['id']} ({violation['impact']}): {targets} {summaries}")
    return found


def _thread_with_replies(app: Any, author: Any) -> Any:
    conversation = make_conversation(app, name="Joana Silva", text="Oi, vocês aceitam PIX?")
    for status, text in (("delivered", "Aceitamos sim!"), ("read", "Pode pagar pelo link.")):
        add_message(
            conversation,
            content={"type": "text", "text": text},
            direction=Message.Direction.OUTBOUND,
            status=status,
            author=author,
        )
    return conversation


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_every_main_page_passes_axe(open_browser, app_a, admin, language, viewport, scheme) -> None:
    do_update_preferences(actor=admin, language=language, time_zone="America/Sao_Paulo")
    conversation = _thread_with_replies(app_a, admin)
    desk = open_browser(admin, viewport=viewport, color_scheme=scheme)
    visitor = open_browser(None, viewport=viewport, color_scheme=scheme, locale=language)
    found: dict[str, list[str]] = {}

    open_inbox(desk.page)
    found["inbox"] = violations(desk.page)
    open_inbox(desk.page, f"/conversations/{conversation.pk}/")
    expect(desk.page.locator("#thread")).to_be_visible()
    found["thread"] = violations(desk.page)
    pages = (("review", "/review/"), ("settings", "/settings/"), ("profile", "/profile/"))
    reports = (("reports", "/reports/"), ("volume", "/reports/volume/"), ("agents", "/reports/agents/"))
    for name, path in pages + reports:
        desk.page.goto(path)
        found[name] = violations(desk.page)
    visitor.page.goto("/accounts/login/")
    found["login"] = violations(visitor.page)

    assert desk.page.locator("html").get_attribute("lang") == language
    # The scheme really changed the page (dark surfaces in dark mode), so both were checked.
    background = desk.page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == ("rgb(18, 21, 28)" if scheme == "dark" else "rgb(245, 246, 248)")
    report = [f"{page}: {problem}" for page, problems in found.items() for problem in problems]
    assert report == [], "\n".join(report)


def test_delivered_and_read_differ_by_shape_and_name_and_new_messages_are_announced(
    open_browser, app_a, admin
) -> None:
    conversation = _thread_with_replies(app_a, admin)
    desk = open_browser(admin)
    open_inbox(desk.page, f"/conversations/{conversation.pk}/")
    delivered = desk.page.locator("#thread .ticks-delivered")
    read = desk.page.locator("#thread .ticks-read")
    expect(delivered).to_have_attribute("aria-label", "Delivered")
    expect(read).to_have_attribute("aria-label", "Read")
    # Not only a colour: read ticks sit on a filled badge that delivered ones lack.
    assert delivered.locator("svg rect").count() == 0 and read.locator("svg rect").count() == 1
    # New messages in the open thread are announced politely, without taking the focus.
    scroller = desk.page.locator("#thread-scroller")
    expect(scroller).to_have_attribute("aria-live", "polite")
    expect(scroller).to_have_attribute("role", "log")
