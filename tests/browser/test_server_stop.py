"""A loaded server process ends within 10 s of SIGTERM, whatever its request threads are waiting on.

Not a Playwright test, but it needs what the browser suite sets up: a committed database and servers
started as subprocesses (tests/browser/conftest.py).
"""

from __future__ import annotations

import signal
import sys
import threading
import time

import pytest
import requests
from django.conf import settings
from django.test import Client

from tests.browser.conftest import ServerProcess, _child_env
from tests.support import free_port, wait_for

pytestmark = pytest.mark.browser


def test_a_loaded_daphne_ends_within_ten_seconds_of_sigterm(stack, sandbox_server, tmp_path, agent_a, app_a):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = ServerProcess(
        "daphne-stop",
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
        _child_env(sandbox_url=sandbox_server.url, public_url=base),
        tmp_path / "daphne-stop.log",
        port=port,
    )
    client = Client()
    client.force_login(agent_a)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    stop = threading.Event()
    answered: list[int] = []

    def agent(patience: float) -> None:
        # Inbox pages as fast as they come; the impatient agents give up on each request after a moment
        # (a tab closed, a slow network): the server is mid-request at all times, some of them for
        # clients already gone.
        session = requests.Session()
        while not stop.is_set():
            try:
                answered.append(session.get(f"{base}/", cookies=cookies, timeout=patience).status_code)
            except requests.RequestException:
                session = requests.Session()

    server.start()
    proc = server.proc
    # Two patient agents and two impatient ones. The impatient ones ask faster than a slow machine serves
    # pages (their abandoned requests still run), so the queue grows: the patient ones wait long enough
    # to be served behind it.
    agents = [threading.Thread(target=agent, args=(p,), daemon=True) for p in (60, 60, 0.05, 0.05)]
    try:
        for thread in agents:
            thread.start()
        # Loaded: the control that pages really are being served.
        wait_for(lambda: len(answered) >= 3, timeout=120, what=f"pages served:\n{server.log_tail()}")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)  # under load, requests in flight
        proc.wait(timeout=30)
        took = time.monotonic() - started
    finally:
        stop.set()
        for thread in agents:
            thread.join(timeout=5)
        server.stop()

    assert 200 in answered
    assert took <= 10, f"daphne took {took:.1f} s to end after SIGTERM"
