"""What the browser tests share besides fixtures: how a page is watched, how an agent signs in, and
how the inbox is read and driven (only through the markup contract of templates/conversations/inbox.html).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from playwright.sync_api import expect

from channels_app.actions.team import do_set_membership
from tests.conftest import PASSWORD


@dataclass
class PageWatch:
    """What a page did that a user would notice: console errors, uncaught errors, dialogs, ws frames."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    # Console errors matching one of these are expected by the test (e.g. a websocket cut on purpose).
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


def watch_page(page: Any) -> PageWatch:
    watch = PageWatch()

    def on_console(message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            watch.errors.append(f"console: {message.text} ({location.get('url', '')})")

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_websocket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: watch.frames.append(str(payload)))

    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.errors.append(f"pageerror: {error}"))
    page.on("dialog", on_dialog)
    page.on("websocket", on_websocket)
    return watch


@dataclass
class Agent:
    """One signed-in browser context: an agent at their own desk."""

    user: Any
    context: Any
    page: Any
    watch: PageWatch


def sign_in_with_form(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


# --- the inbox, as the markup contract at the top of templates/conversations/inbox.html describes it ---

BUBBLES = "#thread .msg[data-message-id]"  # bubbles only: not the activity lines between them
ROWS = "#inbox-list [data-conversation-id]"


def open_inbox(page: Any, path: str = "/") -> None:
    """Load an inbox page and wait until its websocket is open and caught up ("Live")."""
    page.goto(path)
    expect(page.locator("#connection-state")).to_have_attribute("data-state", "live")


def row_for(page: Any, contact: str) -> Any:
    return page.locator(ROWS).filter(has=page.locator(".conv-name", has_text=contact))


def bubble_with(page: Any, text: str) -> Any:
    return page.locator(BUBBLES).filter(has_text=text)


def message_ids(page: Any) -> list[str]:
    """The ids of the bubbles the thread shows, in page order (duplicates kept: tests count them)."""
    return page.locator(BUBBLES).evaluate_all("els => els.map(e => e.dataset.messageId)")


def open_thread(page: Any, contact: str) -> None:
    """Click a conversation in the list, as an agent would, and wait for its thread."""
    row_for(page, contact).locator("a.conv-link").click()
    expect(page.locator("#thread")).to_be_visible()
    expect(page.locator("#thread .thread-header")).to_contain_text(contact)


def send_reply(page: Any, text: str) -> None:
    box = page.locator("#composer textarea[name=text]")
    box.fill(text)
    box.press("Enter")


def customer_writes(sandbox: Any, channel: Any, sender: str, text: str) -> float:
    """The sandbox's customer sends `text`; returns when our webhook has answered (time.time())."""
    result = sandbox.customer_message(
        channel_id=str(channel.hub_channel_id), sender=sender, content={"type": "text", "text": text}
    )
    delivered_at = time.time()
    codes = [delivery["statusCode"] for delivery in result["deliveries"]]
    assert codes and all(code == 200 for code in codes), f"webhook deliveries answered {codes}"
    return delivered_at


def record_first_appearance(page: Any, selector: str, text: str) -> None:
    """From now on, note when an element matching `selector` and containing `text` enters the DOM.

    The time is taken in the page (wall clock, ms) by a MutationObserver, so Playwright's polling does
    not count in what a test measures.
    """
    page.evaluate(
        """([selector, text]) => {
            window.__firstSeen = window.__firstSeen || {};
            const check = () => {
                if (window.__firstSeen[text]) return;
                for (const el of document.querySelectorAll(selector)) {
                    if (el.textContent.includes(text)) {
                        window.__firstSeen[text] = performance.timeOrigin + performance.now();
                        return;
                    }
                }
            };
            new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
            check();
        }""",
        [selector, text],
    )


def first_appearance(page: Any, text: str) -> float:
    """When (time.time() seconds) the element recorded by `record_first_appearance` appeared."""
    seen = page.evaluate("text => (window.__firstSeen || {})[text] || null", text)
    assert seen is not None, f"{text!r} never appeared"
    return seen / 1000


def record_changes(page: Any, name: str, selector: str, attribute: str) -> None:
    """Log every distinct value of `attribute` on each element matching `selector`, in order, under `name`.

    Elements are told apart by id, so a bubble replaced by a live frame continues the same history.
    """
    page.evaluate(
        """([name, selector, attribute]) => {
            const log = (window.__changes = window.__changes || {})[name] = [];
            const last = {};
            const check = () => {
                for (const el of document.querySelectorAll(selector)) {
                    const value = el.getAttribute(attribute);
                    if (last[el.id] !== value) {
                        last[el.id] = value;
                        log.push({id: el.id, value, at: performance.timeOrigin + performance.now()});
                    }
                }
            };
            new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true});
            check();
        }""",
        [name, selector, attribute],
    )


def changes(page: Any, name: str, element_id: str | None = None) -> list[str]:
    entries = page.evaluate("name => (window.__changes || {})[name] || []", name)
    return [e["value"] for e in entries if element_id is None or e["id"] == element_id]


def set_membership(**kwargs) -> None:
    """`do_set_membership` as a request or the worker runs it: in a thread without an event loop.

    Not in the test's own thread: Playwright's sync API keeps an asyncio loop running there, so the
    action's after-commit publish (async_to_sync) would refuse to run and the event would be lost.
    """
    failure: list[BaseException] = []

    def run() -> None:
        try:
            do_set_membership(**kwargs)
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)
        finally:
            connection.close()  # this thread's own database connection

    thread = threading.Thread(target=run, name="admin-action")
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "do_set_membership did not return in 10 s"
    if failure:
        raise failure[0]


def session_cookie(user: Any) -> str:
    """A `Cookie` header that signs `user` in, for the clients that are not the browser (websockets,
    requests) talking to the stack's servers."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def synced_inbox_socket(base_url: str, cookie: str) -> Any:
    """An inbox websocket to the server at `base_url`, past its first sync (as a page opens it)."""
    import websockets

    ws = await websockets.connect(
        base_url.replace("http", "ws") + "/ws/inbox/", additional_headers={"Cookie": cookie}, origin=base_url
    )
    sync = {"type": "sync", "gen": 1, "scope": "all", "since": None, "conversation": None}
    await ws.send(json.dumps({**sync, "after": 0, "rows": [], "filters": ""}))
    assert 'data-kind="sync"' in await asyncio.wait_for(ws.recv(), 15)
    return ws
