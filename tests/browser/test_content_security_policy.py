"""The Content-Security-Policy in a real browser: the inbox goes live over its websocket, a thread with a
customer's image and the settings pages work, and the browser reports no violation; while a script
injected into the page is refused (the control: a violation is seen when there is one)."""

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import open_inbox, open_thread
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.browser

# Runs before the page's own scripts on every navigation, and records what the browser refused.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_the_inbox_thread_and_settings_work_under_the_policy(open_browser, stack, admin, app_a):
    conversation = make_conversation(app_a, name="Maria Souza")
    add_message(
        conversation,
        content={"type": "image", "image": {"url": f"{stack.sandbox.url}/_sandbox/media/photo.png"}},
    )
    desk = open_browser(admin)
    desk.context.add_init_script(RECORD_VIOLATIONS)

    open_inbox(desk.page)  # waits for "Live": the websocket connected under connect-src
    open_thread(desk.page, "Maria Souza")
    # A customer's image loads on a click (tests/browser/test_media_privacy.py), and then under img-src.
    desk.page.locator("#thread").get_by_role("button", name="Load image").click()
    expect(desk.page.locator("#thread img.msg-image")).to_have_count(1)
    expect(desk.page.locator("#thread img.msg-image")).to_have_js_property("complete", True)
    assert violations(desk.page) == []
    # htmx took its configuration from base.html: no inline <style> of its own, no attribute evaluation.
    assert desk.page.evaluate("document.querySelectorAll('style').length") == 0
    assert desk.page.evaluate("htmx.config.allowEval") is False
    for path in ("/settings/health/", f"/settings/applications/{app_a.pk}/webhooks/", "/review/"):
        response = desk.page.goto(path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert violations(desk.page) == [], path


def test_a_script_injected_into_the_page_does_not_run(open_browser, admin, app_a):
    desk = open_browser(admin)
    desk.context.add_init_script(RECORD_VIOLATIONS)
    # Chromium also reports the refusal as a console error: here it is the point.
    desk.watch.allow(r"Content Security Policy")
    open_inbox(desk.page)

    desk.page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__injected = true";
          document.body.append(script);
        }"""
    )

    assert desk.page.evaluate("window.__injected === undefined")
    assert any(v.startswith("script-src") for v in violations(desk.page)), violations(desk.page)
