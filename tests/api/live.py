"""A live Hubdash (daphne, in a subprocess) on the test database, for tests that call it over HTTP as an
integration would: schemathesis, and the README's curl examples."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from tests.api.api_support import database_url
from tests.support import free_port, wait_for


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    def listening() -> bool:
        if proc.poll() is not None:
            raise AssertionError(
                f"daphne exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_for(listening, timeout=timeout, what=f"daphne to listen on {port}")


@contextmanager
def live_server(tmp: Path, **env: str) -> Iterator[str]:
    """Serve the test database at the returned base URL until the block ends."""
    port = free_port()
    log = tmp / "daphne.log"
    child_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "hubdash.settings",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        "OUTGOING_WEBHOOK_CACHE_SECONDS": "0",
        **env,
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
            env=child_env,
            cwd=settings.BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        print(log.read_text(errors="replace")[-3000:])  # shown by pytest when the test fails
