"""What every benchmark needs: a fresh PostgreSQL database and Django set up against it.

Several people (or agents) may bench on one machine at once: `BENCH_DB_SUFFIX` (e.g. `_h5`) is added to
every bench database's name, `BENCH_REDIS_URL` / `BENCH_CHANNEL_PREFIX` choose the channel layer's
Redis database and key prefix (defaults: db 9, `bench`), and `BENCH_PORTS` (e.g. `25000-25999`) the
servers' ports, so concurrent runs never share state.
"""

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


def database_name(base: str) -> str:
    """The bench database `base`, with this run's `BENCH_DB_SUFFIX`."""
    return base + os.environ.get("BENCH_DB_SUFFIX", "")


def production_env(db_name: str) -> dict[str, str]:
    """The production configuration on this machine's services, with a database of the bench's own."""
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database_name(db_name)}",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        "CHANNEL_LAYER_PREFIX": os.environ.get("BENCH_CHANNEL_PREFIX", "bench"),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        # A fixed key: the bench's database is recreated each run, so nothing depends on keeping it.
        "FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",  # plain http on loopback
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MAX_SIZE": "20",
        # Collected by every bench run: runs side by side must not rewrite each other's manifest.
        "STATIC_ROOT": str(ROOT / "var" / database_name("bench-static")),
    }


def recreate_database(db_name: str) -> None:
    import psycopg

    db_name = database_name(db_name)
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')


def clear_channel_layer(env: dict[str, str]) -> None:
    """Forget every group and message of `env`'s channel layer. A server stopped with sockets open leaves
    their group memberships in Redis (for a day): each `group_send` would then walk them, and a run
    would pay for the runs before it."""
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=env["CHANNEL_LAYER_PREFIX"] + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


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


def explain_cases(cases: dict[str, Any]) -> None:
    """Run each case (a callable) once to warm up, then again capturing its SQL, and print EXPLAIN
    ANALYZE of every query it ran, as it ran it (so this follows the code), then a table of planning
    and execution times."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    summary = []
    for label, run in cases.items():
        run()  # warm: the first call of a process also loads the catalog
        with CaptureQueriesContext(connection) as captured:
            run()
        for number, query in enumerate(captured.captured_queries, 1):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, SUMMARY) " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            times = dict(re.findall(r"(Planning|Execution) Time: ([\d.]+) ms", plan))
            print(f"\n--- {label}, query {number} of {len(captured.captured_queries)}\n{plan}")
            summary.append((f"{label} ({number}/{len(captured.captured_queries)})", times))
    print("\n| query | planning ms | execution ms |\n|---|---|---|")
    for label, times in summary:
        print(f"| {label} | {times.get('Planning', '?')} | {times.get('Execution', '?')} |")


_handed_out: set[int] = set()


def free_port() -> int:
    """A free port: any, or the first free one of `BENCH_PORTS` (e.g. `25000-25999`) when it is set."""
    first, _, last = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        if port and port in _handed_out:  # not listened on yet, perhaps: never give it twice
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = s.getsockname()[1]
        _handed_out.add(port)
        return port
    raise SystemExit(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not listen on {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far: unlike a latency, it does not depend on what
    else the machine runs, so it is the figure to compare when changing a hot path."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Profiler:
    """py-spy sampling one process, only while it holds the GIL (what the process itself spends), written
    as raw collapsed stacks (`flamegraph.pl` or a few lines of Python read them). Needs py-spy
    (`pip install py-spy`) and the right to trace the process (root, or ptrace_scope 0)."""

    def __init__(self, pid: int, path: Path, *, rate: int = 200) -> None:
        py_spy = Path(sys.executable).with_name("py-spy")
        cmd = [str(py_spy) if py_spy.exists() else "py-spy", "record", "--gil", "-r", str(rate), "-f", "raw"]
        self.proc = subprocess.Popen(
            [*cmd, "-o", str(path), "-p", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # py-spy writes what it sampled on SIGINT
        _, err = self.proc.communicate(timeout=60)
        if self.proc.returncode:
            print(f"py-spy failed: {err.strip()}", file=sys.stderr)


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


def signed_message_events(
    *, channel_id: str, secret: str, count: int, contacts: int, tag: str = "bench"
) -> list[tuple[str, str]]:
    """`count` new `Message` events from `contacts` customers, as the Hub signs them: (signature header,
    JSON body). `tag` goes into each Hub message id (unique per call)."""
    import json
    import uuid

    from channels_app.hub.signatures import sign

    now = int(time.time())
    events = []
    for i in range(count):
        event = {
            "eventType": "Message",
            "channelId": channel_id,
            "messageId": f"wamid.{tag}.{uuid.uuid4().hex}",
            "from": f"55219{(i % contacts):08d}",
            "timestamp": now,
            "channel": "whatsapp",
            "content": {"type": "text", "text": f"Olá, pedido #{i}: quando chega?"},
        }
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        events.append((sign(body.encode(), secret, now), body))
    return events


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
