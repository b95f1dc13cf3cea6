"""A production server (DEBUG=false) refuses to start without collected static files, and says why,
instead of answering 500 on every page."""

import os
import subprocess
import sys
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from tests.support import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CHANNEL_LAYER_PREFIX"}}
    env.update(
        DEBUG="false",
        SECRET_KEY="production-start-test-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        # Plain http on loopback, so no redirect to https and no secure-only cookies.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    )
    return env


def _daphne(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_without_collectstatic_the_server_stops_with_what_to_run(tmp_path):
    env = _production_env(tmp_path)
    server = _daphne(env, free_port())
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()

    assert server.returncode != 0
    assert "Static files are not collected" in output
    assert "manage.py collectstatic --noinput" in output


def test_after_collectstatic_the_same_server_serves_pages(tmp_path):
    # The control: the same configuration starts once the files are collected.
    env = _production_env(tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    server = _daphne(env, port)
    try:

        def answered() -> requests.Response | None:
            assert server.poll() is None, server.communicate()[0][-2000:]
            try:
                return requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
            except requests.ConnectionError:
                return None

        page = wait_for(answered, timeout=60, what="daphne to answer")
    finally:
        server.terminate()
        server.communicate(timeout=20)

    assert page.status_code == 200
    assert "/static/css/app." in page.text  # the hashed name from the manifest


def test_a_server_process_keeps_what_it_loaded_at_startup_out_of_full_collections(tmp_path):
    """hubdash/startup.py settle_garbage_collector: the modules, settings and apps loaded once are frozen,
    so a full garbage collection no longer walks them while requests wait."""
    env = _production_env(tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    probe = "import gc, hubdash.asgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr[-2000:]
    frozen, tracked = (int(n) for n in done.stdout.split())
    assert frozen > 50_000  # Django and the apps: some 150,000 objects
    assert tracked < frozen / 10  # what a full collection still walks
