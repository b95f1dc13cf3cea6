"""Signing in: the first thing every agent does, through the real login form."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import sign_in_with_form

pytestmark = pytest.mark.browser


def test_sign_in_page_renders_the_login_form(anonymous):
    anonymous.page.goto("/")

    expect(anonymous.page).to_have_url(re.compile(r"/accounts/login/"))
    expect(anonymous.page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(anonymous.page.get_by_label("Username")).to_be_focused()


def test_agent_signs_in_with_the_form_and_sees_their_application(anonymous, agent_a, app_b):
    sign_in_with_form(anonymous.page, agent_a.username)

    expect(anonymous.page.locator(".account .who")).to_have_text("Alice Agent")
    expect(anonymous.page.get_by_role("heading", name="Acme Support")).to_be_visible()
    expect(anonymous.page.get_by_text("Bravo Shop")).to_have_count(0)


def test_wrong_password_is_refused_with_a_message(anonymous, agent_a):
    sign_in_with_form(anonymous.page, agent_a.username, "not-the-password")

    expect(anonymous.page.get_by_role("alert")).to_contain_text("didn't match")
    expect(anonymous.page.locator(".account")).to_have_count(0)
