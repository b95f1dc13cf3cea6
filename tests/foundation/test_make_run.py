"""`make run`'s command brings up the whole embedded stack: sign in and see the demo Application."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def embedded(tmp_path):
    port, sandbox_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CHANNEL_LAYER_PREFIX", "HUB_BASE_URL", "PUBLIC_BASE_URL"}
    }
    # The embedded default: SQLite and the in-memory channel layer, on a fresh database file.
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}", SANDBOX_CUSTOMERS_RATE="2")
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_embedded",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "Hubdash is up" not in (ROOT / log.name).read_text():
        assert proc.poll() is None, (ROOT / log.name).read_text()[-3000:]
        assert time.monotonic() < deadline, "not up within 60 s"
        time.sleep(0.3)
    yield f"http://127.0.0.1:{port}", proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)


def _sign_in(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    assert answer.status_code == 200 and "Sign out" in answer.text
    return session


def test_demo_admin_signs_in_and_sees_the_demo_application_with_six_channels(embedded):
    base, _ = embedded
    session = _sign_in(base, "admin", "hubdash-demo")
    page = session.get(f"{base}/applications/", timeout=10).text
    assert "Demo Shop" in page
    assert page.count('class="channel-row"') == 6
    # The sandbox's customers write in, through verified and signed webhooks, and threads arrive.
    deadline = time.monotonic() + 20
    while "data-conversation-id" not in session.get(f"{base}/", timeout=10).text:
        assert time.monotonic() < deadline, "no customer conversation arrived in the inbox"
        time.sleep(0.5)


def test_ctrl_c_stops_every_process_it_started(embedded):
    _, proc = embedded
    children = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) >= 3  # run_embedded, the sandbox, daphne
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) is not None

    def none_left() -> bool:
        alive = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
        return not alive

    # The children end on their own signal, a moment after the launcher: wait for it (a busy machine may
    # take seconds), and fail only if any is still there after well over their own stop timeouts.
    wait_for(none_left, timeout=20, what="every process run_embedded started to end")
