"""What every benchmark needs: a fresh PostgreSQL database and Django set up against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def production_env(db_name: str) -> dict[str, str]:
    """The production configuration on this machine's services, with a database of the bench's own."""
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
        "CHANNEL_LAYER_PREFIX": "bench",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        # A fixed key: the bench's database is recreated each run, so nothing depends on keeping it.
        "FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # plain http on loopback
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": "20",
        "STATIC_ROOT": str(ROOT / "var" / "bench-static"),
    }


def recreate_database(db_name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')


def setup_django(env: dict[str, str]) -> None:
    """Point this process at `env`'s database, set Django up and migrate."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubdash.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    # A production server refuses to start without collected static files (hubdash/startup.py).
    call_command("collectstatic", interactive=False, verbosity=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not listen on {port}")


def stop_server(proc: subprocess.Popen) -> float:
    """SIGTERM to the server's process group, then the seconds until it exited (SIGKILL after 30 s:
    reported as 30+)."""
    started = time.monotonic()
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return time.monotonic() - started


def seed_signed_application() -> tuple[Any, Any, str]:
    """An Application "Bench" with a WhatsApp channel and a stored signing secret: (app, channel, secret)."""
    import uuid

    from channels_app.actions.webhooks import do_store_signing_secret
    from channels_app.models import Application, Channel

    app = Application(name="Bench")
    app.set_api_key("bench-api-key-000000")
    app.save()
    channel = Channel.objects.create(
        application=app, hub_channel_id=uuid.uuid4(), kind="whatsapp", display_name="Bench WhatsApp"
    )
    secret = "whsec_bench_" + uuid.uuid4().hex
    do_store_signing_secret(application=app, hub_webhook_id="bench", secret=secret)
    return app, channel, secret
