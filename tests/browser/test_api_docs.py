"""The API's docs page (/api/v1/docs/) in a real browser: Swagger UI renders the schema from our own
static files under the site's Content-Security-Policy, with no violation and nothing from elsewhere."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

RECORD = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def test_the_docs_render_from_our_own_files_under_the_policy(open_browser, stack, admin):
    desk = open_browser(admin)
    desk.context.add_init_script(RECORD)
    elsewhere: list[str] = []
    desk.page.on(
        "request",
        lambda request: None if request.url.startswith(stack.base_url) else elsewhere.append(request.url),
    )

    response = desk.page.goto("/api/v1/docs/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(desk.page.get_by_text("Hubdash API").first).to_be_visible()
    expect(desk.page.get_by_text("List conversations").first).to_be_visible()
    assert desk.page.evaluate("window.__cspViolations") == []
    assert elsewhere == []
