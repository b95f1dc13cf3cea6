"""Deactivating a channel or a user, and revoking access, ask first in a dialog a keyboard can answer;
cancelling changes nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from channels_app.models import Channel, Membership

pytestmark = pytest.mark.browser


def test_deactivating_a_channel_asks_first_and_escape_cancels(open_browser, app_a, admin) -> None:
    channel = app_a.channels.get(kind="sms")
    desk = open_browser(admin)
    desk.page.goto(f"/settings/channels/{channel.pk}/")
    deactivate = desk.page.get_by_role("button", name="Deactivate channel")
    dialog = desk.page.get_by_role("dialog")

    deactivate.focus()
    desk.page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(channel.display_name)
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe choice first
    desk.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(deactivate).to_be_focused()
    channel.refresh_from_db()
    assert channel.active

    # Again, and this time confirm with the keyboard: Tab to the red button, Enter.
    desk.page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    desk.page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Deactivate channel")).to_be_focused()
    desk.page.keyboard.press("Enter")
    expect(desk.page.get_by_role("button", name="Reactivate channel")).to_be_visible()
    assert not Channel.objects.get(pk=channel.pk).active


def test_revoking_access_asks_first(open_browser, app_a, app_b, admin, agent_a) -> None:
    # Alice also works for another Application (her last one cannot be revoked, only deactivated).
    Membership.objects.create(user=agent_a, application=app_b, role=Membership.Role.AGENT)
    desk = open_browser(admin)
    desk.page.goto(f"/settings/team/{agent_a.pk}/")
    dialog = desk.page.get_by_role("dialog")

    # Revoking: the role goes to "No access"; cancel keeps the membership.
    desk.page.locator("fieldset.access select").first.select_option("")
    desk.page.get_by_role("button", name="Save access").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert Membership.objects.filter(user=agent_a, application=app_a).exists()
    desk.watch.allow("status of 404")
    desk.page.get_by_role("button", name="Save access").click()
    with desk.page.expect_navigation():
        dialog.get_by_role("button", name="Save access").click()
    # (Alice is no longer in this admin's Applications: the page that follows is not theirs to see,
    # hence the 404 allowed above.)
    assert not Membership.objects.filter(user=agent_a, application=app_a).exists()


def test_deactivating_a_user_asks_first(open_browser, app_a, admin, agent_a) -> None:
    desk = open_browser(admin)
    desk.page.goto(f"/settings/team/{agent_a.pk}/")
    dialog = desk.page.get_by_role("dialog")
    desk.page.get_by_role("button", name="Deactivate", exact=True).click()
    expect(dialog).to_contain_text("Alice Agent")
    dialog.get_by_role("button", name="Deactivate", exact=True).click()
    expect(desk.page.get_by_role("button", name="Reactivate")).to_be_visible()
    agent_a.refresh_from_db()
    assert not agent_a.is_active


def test_saving_access_without_revoking_asks_nothing(open_browser, app_a, admin, agent_a) -> None:
    desk = open_browser(admin)
    desk.page.goto(f"/settings/team/{agent_a.pk}/")
    desk.page.locator("fieldset.access select").first.select_option("admin")
    desk.page.get_by_role("button", name="Save access").click()
    expect(desk.page.locator(".flash")).to_be_visible()
    expect(desk.page.get_by_role("dialog")).to_have_count(0)
    assert Membership.objects.get(user=agent_a, application=app_a).role == Membership.Role.ADMIN
