"""What the browser tests share besides fixtures: how a page is watched, and how an agent signs in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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
