"""A customer's image is not fetched when it arrives or when the thread is opened: the sender's server
learns nothing until the agent clicks "Load image", and then the image loads (under the page's CSP) without
a Referer. The server-side half (markup, frames, which URLs get a button): tests/inbox/test_media_privacy.py.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.browser_support import bubble_with, customer_writes, open_inbox, open_thread

pytestmark = pytest.mark.browser

CUSTOMER = "5521987654321"
CAPTION = "Tem essa em azul?"


def _image_loaded(page: Any, locator: Any, timeout: float = 5.0) -> None:
    # Polled from here: wait_for_function evaluates its string with eval, which the pages' CSP refuses.
    deadline = time.monotonic() + timeout
    while not locator.evaluate("img => img.complete && img.naturalWidth > 0"):
        assert time.monotonic() < deadline, "the image did not load"
        page.wait_for_timeout(50)


def test_a_customers_image_loads_only_after_the_agent_clicks(open_browser, hub_a, app_a, agent_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    customer_writes(hub_a, whatsapp, CUSTOMER, "Oi")
    image_url = f"{hub_a.url}/_sandbox/media/photo.png"
    image_origin = "{0.scheme}://{0.netloc}".format(urlsplit(image_url))
    desk = open_browser(agent_a)
    requests: list[Any] = []
    desk.page.on("request", lambda request: requests.append(request))

    def to_image_host() -> list[Any]:
        return [r for r in requests if r.url.startswith(image_origin + "/")]

    open_inbox(desk.page)
    open_thread(desk.page, CUSTOMER)

    # Live: the image arrives over the websocket while the thread is open.
    result = hub_a.customer_message(
        channel_id=str(whatsapp.hub_channel_id),
        sender=CUSTOMER,
        message_id="wamid.photo-1",
        content={"type": "image", "image": {"url": image_url, "mimeType": "image/png", "caption": CAPTION}},
    )
    assert all(d["statusCode"] == 200 for d in result["deliveries"])
    bubble = bubble_with(desk.page, CAPTION)
    button = bubble.get_by_role("button", name="Load image")
    expect(button).to_be_visible()
    expect(bubble).to_contain_text(f"Image from {urlsplit(image_url).netloc}")
    expect(bubble.locator("img, video, audio")).to_have_count(0)
    assert to_image_host() == [], "the image was fetched before the agent asked"

    # After a reload (the page render, not the live frame): still nothing fetched.
    open_inbox(desk.page, desk.page.url)
    expect(button).to_be_visible()
    assert to_image_host() == [], "the image was fetched when the thread was opened"

    button.click()

    image = bubble.locator("img.msg-image")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("src", image_url)
    expect(image).to_have_js_property("referrerPolicy", "no-referrer")
    _image_loaded(desk.page, image)
    fetched = to_image_host()
    assert [r.url for r in fetched] == [image_url]  # the control: the recorder does see the request
    assert not fetched[0].headers.get("referer"), "the image request told the sender where the agent was"
    expect(button).to_have_count(0)
    # Keyboard users keep their place: focus moved from the removed button to the image's link.
    expect(bubble.locator("a.msg-media-link")).to_be_focused()

    # A redraw of the bubble (the customer reacts to the photo) keeps what the agent chose to load.
    hub_a.customer_message(
        channel_id=str(whatsapp.hub_channel_id),
        sender=CUSTOMER,
        content={"type": "reaction", "reaction": {"messageId": "wamid.photo-1", "emoji": "👍"}},
    )
    expect(bubble.locator(".reaction-badge[data-who=customer]")).to_contain_text("👍")
    expect(bubble.locator("img.msg-image")).to_have_attribute("src", image_url)
    expect(bubble.get_by_role("button", name="Load image")).to_have_count(0)
