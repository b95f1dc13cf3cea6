"""WCAG 2.1 AA by axe-core (axe-playwright-python ships it: nothing is downloaded): every main page has no
violation, in English and Portuguese, on a desktop and a phone, in light and dark mode."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from channels_app.actions.preferences import do_update_preferences
from conversations.actions.canned import do_create_canned_reply
from conversations.models import Label, Message
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_dialogs_menus_and_pickers_pass_axe_while_open(open_browser, app_a, admin, language, scheme) -> None:
    """What opens over a page (dialogs, menus, pickers) is checked open, not only the page beneath."""
    do_update_preferences(actor=admin, language=language, time_zone="America/Sao_Paulo")
    conversation = _thread_with_replies(app_a, admin)
    conversation.channel.templates.create(
        hub_template_id="9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34", name="order_shipped", language="pt_BR",
        category="UTILITY", body="Olá {{1}}, seu pedido {{2}} saiu hoje.",
    )  # fmt: skip
    do_create_canned_reply(actor=admin, application=app_a, code="hello", title="Hi", body="Olá!", shared=True)
    Label.objects.create(application=app_a, name="VIP", colour="#b42318")
    desk = open_browser(admin, viewport=DESKTOP, color_scheme=scheme)
    page = desk.page
    found: dict[str, list[str]] = {}
    open_inbox(page, f"/conversations/{conversation.pk}/")
    expect(page.locator("#thread")).to_be_visible()

    page.locator("body").press("?")
    expect(page.locator("#shortcuts-dialog")).to_be_visible()
    found["shortcuts dialog"] = violations(page)
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-dialog")).to_be_hidden()

    page.locator("#thread .msg-details").first.click()
    expect(page.locator("#timeline-dialog")).to_be_visible()
    expect(page.locator("#timeline-body")).not_to_be_empty()
    found["a reply's details dialog"] = violations(page)
    page.keyboard.press("Escape")
    expect(page.locator("#timeline-dialog")).to_be_hidden()

    for key, menu in (("z", ".thread-header .snooze-menu"), ("l", ".thread-header .label-menu")):
        page.locator("body").press(key)
        expect(page.locator(menu)).to_have_attribute("open", "")
        found[f"menu {key}"] = violations(page)
        page.keyboard.press("Escape")
        page.locator(menu).evaluate("el => { el.open = false; }")

    box = page.locator("#composer textarea[name=text]")
    box.press_sequentially("/")
    expect(page.locator("#canned-picker .picker-item")).to_have_count(1)
    found["canned-reply picker"] = violations(page)
    box.press("Escape")
    box.fill("")

    page.locator("#composer [data-action=show-template]").click()
    expect(page.locator("#template-form")).to_be_visible()
    found["template picker"] = violations(page)

    page.goto(f"/settings/channels/{conversation.channel_id}/")
    page.locator("button[data-confirm]").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    found["confirmation dialog"] = violations(page)

    report = [f"{where}: {problem}" for where, problems in found.items() for problem in problems]
    assert report == [], "\n".join(report)
