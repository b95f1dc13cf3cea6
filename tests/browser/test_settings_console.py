"""The settings area in a real browser: connect the webhooks, copy the URL, see the websocket check."""

import pytest
from playwright.sync_api import expect

from tests.conftest import register_in_sandbox

pytestmark = pytest.mark.browser


def test_admin_connects_webhooks_from_the_browser_and_sees_them_verified(open_browser, hub, admin, app_a):
    register_in_sandbox(hub, app_a)
    desk = open_browser(admin)
    desk.page.goto(f"/settings/applications/{app_a.pk}/webhooks/")

    desk.page.get_by_role("button", name="Connect webhooks").click()

    expect(desk.page.locator(".flash")).to_contain_text("Webhooks connected and verified by the Hub")
    expect(desk.page.locator("tr[data-webhook] .pill.ok", has_text="verified")).to_have_count(2)


def test_copy_button_puts_the_webhook_url_on_the_clipboard(open_browser, admin, app_a, stack):
    desk = open_browser(admin)
    desk.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    desk.page.goto(f"/settings/applications/{app_a.pk}/webhooks/")

    desk.page.get_by_role("button", name="Copy").click()

    expect(desk.page.locator("#webhook-url-status")).to_have_text("Copied.")
    copied = desk.page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{stack.base_url}/hub/webhook/{app_a.public_id}/"


def test_health_panel_reports_the_websocket_open_from_this_browser(open_browser, admin, app_a):
    desk = open_browser(admin)
    desk.page.goto("/settings/health/")

    pill = desk.page.locator("[data-ws-check]")
    expect(pill).to_have_text("open")
    expect(pill).to_have_attribute("data-state", "ok")


def test_registering_a_channel_shows_the_to_format_of_the_chosen_kind(open_browser, admin, app_a):
    desk = open_browser(admin, viewport={"width": 390, "height": 844})  # a phone: the form still fits
    desk.page.goto(f"/settings/applications/{app_a.pk}/channels/new/")

    desk.page.get_by_label("Kind", exact=True).select_option("sms")

    expect(desk.page.locator("#kind-to-help")).to_contain_text("E.164 with '+', e.g. +14155550123")
    expect(desk.page.locator("tr.selected[data-kind-help='sms']")).to_have_count(1)
    width = desk.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_an_agent_is_refused_the_settings(open_browser, agent_a):
    desk = open_browser(agent_a)
    desk.watch.allow(r"status of 403 \(Forbidden\)|favicon\.ico")  # the refusal is the point here
    response = desk.page.goto("/settings/")
    assert response.status == 403
    expect(desk.page.get_by_role("link", name="Settings")).to_have_count(0)
