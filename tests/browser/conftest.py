"""The browser-test stack: Chromium driven by Playwright against a live Hubdash, all on loopback.

One stack per session (started once, it is the slow part):
- a dedicated PostgreSQL database `<DATABASE_URL's name>_e2e`, created and migrated by our
  `django_db_setup`, shared by this process and the subprocesses below;
- the Hub sandbox (`sandbox_server` from tests/conftest.py), in this process;
- `daphne hubdash.asgi:application` in a subprocess (websockets need ASGI; pytest-django's
  live_server is WSGI only), and `manage.py run_worker` in another, so replies really go out through
  the sandbox and its status webhooks come back.

Per test: `db` is overridden so rows are committed at once (daphne and the worker see them) and every
table is emptied afterwards; the sandbox is reset; the personas of tests/conftest.py are reused; each
page records console errors, page errors and dialogs, and any of them fails the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from channels_app.actions.webhooks import do_connect_webhooks
from channels_app.models import Application
from hubsandbox import HubSandbox
from tests.browser.browser_support import Agent, watch_page
from tests.conftest import register_in_sandbox
from tests.support import free_port

CHROMIUM = "/usr/bin/chromium"
# Nothing is downloaded at run time: Debian's Chromium, with everything that phones home turned off.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
# Status webhooks arrive a little after the send, as from the real Hub, but fast enough for a test.
STATUS_DELAYS_MS = {"sent": 150, "delivered": 350, "read": 550}
STARTUP_TIMEOUT = 30.0

ROOT = Path(__file__).resolve().parents[2]


# --- pytest options and collection ------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        default=False,
        help="Run tests/browser/test_screenshots.py: write docs/screenshots/*.png (`make screenshots`).",
    )


@pytest.hookimpl(trylast=True)  # after `-m`/`-k` deselection: judge only what will run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_dir = Path(__file__).parent
    ours = [item for item in items if browser_dir in Path(str(item.path)).parents]
    if not ours:
        return
    # This directory swaps the test database for a shared, committed one (django_db_setup below), which
    # cannot coexist with the rest of the suite's per-test transactions in one session.
    if len(ours) != len(items):
        skip = pytest.mark.skip(reason="browser tests run on their own: `make test-browser`")
        for item in ours:
            item.add_marker(skip)
        return
    if not config.getoption("--screenshots", default=False):
        skip = pytest.mark.skip(reason="screenshots are written by `make screenshots` (--screenshots)")
        for item in ours:
            if Path(str(item.path)).name == "test_screenshots.py":
                item.add_marker(skip)


# --- database: one dedicated database, committed data ----------------------------------------------


def _e2e_database_name() -> str:
    return f"{settings.DATABASES['default']['NAME']}_e2e"


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: Any) -> Iterator[None]:
    """Create and migrate `<name>_e2e` once; this process and the subprocesses all use it.

    The browser needs the production-like services: PostgreSQL (several processes share one database)
    and Redis (daphne and the worker publish to each other's websockets).
    """
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("browser tests need DATABASE_URL=postgres://… and REDIS_URL (run `make test-browser`)")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = _e2e_database_name()
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
        )
    yield
    with django_db_blocker.unblock():
        # The subprocesses are gone, but PostgreSQL may not have ended their sessions yet, and a database
        # cannot be dropped while anyone is connected.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(config, verbosity=0)


# Filled by migrations and never changed by a test: emptying them would cost a post_migrate per test.
KEPT_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


def _empty_tables(attempts: int = 5) -> None:
    from django.db import OperationalError, connection, transaction

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    for attempt in range(1, attempts + 1):
        try:
            # DELETE rather than TRUNCATE: no ACCESS EXCLUSIVE lock to wait for behind daphne's and the
            # worker's connections; Django's foreign keys are deferred on PostgreSQL, so order does not matter.
            with transaction.atomic(), connection.cursor() as cursor:
                for table in sorted(set(tables) - KEPT_TABLES):
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
            return
        except OperationalError:
            # A webhook or a reply that was already in flight when the test ended can deadlock with
            # the DELETEs; PostgreSQL aborts one side, and if it was ours we try again once it is done.
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)


@pytest.fixture
def db(stack: Stack, django_db_blocker: Any) -> Iterator[None]:
    """Replaces pytest-django's `db` here: rows are committed at once, so daphne and the worker see them.

    The personas of tests/conftest.py ask for `db`, so they get this one too. Afterwards the sandbox is
    reset first (no late status webhook lands in the next test), then every table is emptied.
    """
    _revive(stack, "before this test")
    for process in stack.processes:
        process.mark()  # a failure report shows what the servers logged during this test
    with django_db_blocker.unblock():
        yield
        stack.sandbox.reset()
        _empty_tables()
    _revive(stack, "during this test")


def _revive(stack: Stack, when: str) -> None:
    """A server process that exited is a defect: start it again, so the tests after it do not fail for
    its absence, and fail here with what it logged (a worker that died leaves replies "Sending" for good,
    which a test would otherwise report only as a timeout)."""
    dead = [process for process in stack.processes if not process.running]
    if not dead:
        return
    logs = "\n".join(f"--- {process.name} ---\n{process.log_tail()}" for process in dead)
    for process in dead:
        process.start()
    raise AssertionError(f"{', '.join(process.name for process in dead)} exited {when}:\n{logs}")


# --- subprocesses -----------------------------------------------------------------------------------


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class ServerProcess:
    """A subprocess with its output in a log file, restartable with the same command and environment."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    proc: subprocess.Popen | None = None
    _log_offset: int = 0

    def start(self) -> ServerProcess:
        log = self.log_path.open("ab")
        # A new process group, so that stop() also ends anything the process started.
        self.proc = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        if self.port is not None:
            self._wait_for_port()
        return self

    def _wait_for_port(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during startup:\n{self.log_tail()}")
            if _port_open(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not listen on {self.port} in {STARTUP_TIMEOUT:g} s:\n{self.log_tail()}"
        )

    def stop(self, *, sig: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def restart(self, *, sig: int = signal.SIGKILL) -> None:
        """Kill (a crash, by default) and start again on the same port."""
        self.stop(sig=sig)
        if self.port is not None:
            deadline = time.monotonic() + 10
            while _port_open(self.port) and time.monotonic() < deadline:
                time.sleep(0.05)
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def mark(self) -> None:
        """Remember where the log is now: `new_output()` returns what was written since."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0

    def new_output(self, chars: int = 6000) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")[-chars:]


@dataclass
class Stack:
    sandbox: HubSandbox
    daphne: ServerProcess
    worker: ServerProcess
    base_url: str

    @property
    def processes(self) -> list[ServerProcess]:
        return [self.daphne, self.worker]


def _e2e_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


def _child_env(*, sandbox_url: str, public_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=_e2e_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CHANNEL_LAYER_PREFIX=settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        HUB_BASE_URL=sandbox_url,
        PUBLIC_BASE_URL=public_url,
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="hubdash.settings",
        PYTHONUNBUFFERED="1",
        # Transient send failures retry quickly in tests (the production default backs off 2 s, 4 s…).
        HUB_SEND_BACKOFF_BASE="0.2",
        HUB_SEND_BACKOFF_MAX="1",
    )
    return env


@pytest.fixture(scope="session")
def stack(
    django_db_setup: None, sandbox_server: HubSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("stack")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _child_env(sandbox_url=sandbox_server.url, public_url=base_url)
    daphne = ServerProcess(
        "daphne",
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
        env,
        logs / "daphne.log",
        port=port,
    )
    # Polling every 0.2 s (default 0.5) so a reply leaves as soon as a test sends it.
    worker = ServerProcess(
        "worker", [sys.executable, "manage.py", "run_worker", "--interval", "0.2"], env, logs / "worker.log"
    )
    stack = Stack(sandbox_server, daphne, worker, base_url)
    # This process talks to the same Hub and announces the same public URL when it connects webhooks.
    overrides = override_settings(HUB_BASE_URL=sandbox_server.url, PUBLIC_BASE_URL=base_url)
    overrides.enable()
    try:
        for process in stack.processes:
            process.start()
        yield stack
    finally:
        for process in reversed(stack.processes):
            process.stop()
        overrides.disable()


@pytest.fixture
def hub(stack: Stack, db: None) -> HubSandbox:
    """The sandbox, reset for this test, with quick status webhooks."""
    stack.sandbox.reset()
    stack.sandbox.configure(statusDelaysMs=STATUS_DELAYS_MS)
    return stack.sandbox


def connect_to_hub(sandbox: HubSandbox, app: Application) -> None:
    """Register `app` in the sandbox and connect its signed webhooks to daphne, as an admin would."""
    register_in_sandbox(sandbox, app)
    hooks = do_connect_webhooks(application=app)
    assert all(hook.is_verified for hook in hooks), "the sandbox could not verify daphne's webhook URL"


@pytest.fixture
def hub_a(hub: HubSandbox, app_a: Application) -> HubSandbox:
    connect_to_hub(hub, app_a)
    return hub


@pytest.fixture
def hub_ab(hub_a: HubSandbox, app_b: Application) -> HubSandbox:
    connect_to_hub(hub_a, app_b)
    return hub_a


# --- browser ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    # Playwright's sync API keeps an asyncio loop "running" in the main thread between calls, and Django
    # refuses ORM calls from a thread with a running loop. The loop is only parked in another greenlet
    # while test code runs, so the check is a false alarm here. Only this process, only while the browser
    # runs: the subprocesses keep the check (see _child_env).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def open_browser(
    browser: Any, stack: Stack, db: None, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Agent]]:
    """`open_browser(user=None, viewport=VIEWPORT, **context_options)` → an Agent in a fresh context,
    signed in as `user`.

    Each context is isolated (own cookies, own websocket), so two agents are two desks.
    """
    opened: list[Agent] = []
    request.node.page_watches = []

    def open_(user: Any = None, *, viewport: dict[str, int] | None = None, **options: Any) -> Agent:
        context = browser.new_context(viewport=viewport or VIEWPORT, base_url=stack.base_url, **options)
        context.set_default_timeout(5_000)
        if user is not None:
            context.add_cookies([session_cookie(user, stack.base_url)])
        page = context.new_page()
        watch = watch_page(page)
        request.node.page_watches.append(watch)
        agent = Agent(user, context, page, watch)
        opened.append(agent)
        return agent

    yield open_
    for agent in opened:
        agent.context.close()


@pytest.fixture
def anonymous(open_browser: Callable[..., Agent]) -> Agent:
    return open_browser()


def session_cookie(user: Any, base_url: str) -> dict[str, Any]:
    """A real session for `user` (stored in the shared database), as the login form would create."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }


# --- reporting --------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A console error, an uncaught exception or a dialog in any page fails the test itself."""
    result = yield
    problems = []
    for watch in getattr(item, "page_watches", []):
        problems += watch.unexpected_errors()
        problems += [f"dialog: {d}" for d in watch.dialogs]
    if problems:
        raise AssertionError("the browser reported:\n" + "\n".join(problems))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """On failure, show what the server processes logged during the test."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        for process in stack.processes:
            output = process.new_output()
            if output:
                report.sections.append((f"{process.name} output during the test", output))
    return report
