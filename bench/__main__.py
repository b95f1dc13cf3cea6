"""Webhook ingest throughput of one daphne process on PostgreSQL + Redis (the production configuration).

    .venv/bin/python -m bench [--events 6000] [--runs 3] [--connections 32]

For each run: a fresh set of unique, signed `Message` events is posted by wrk (a C load generator, so
the load generator takes little of the CPU the server needs) through the real ASGI stack, then the same
events again (every one a duplicate, as when the Hub's deliveries are retried). Reports per-run and
median events/s, wrk's latency percentiles, the rows stored (nothing lost, nothing doubled) and the
server's memory. Needs PostgreSQL and Redis on 127.0.0.1 and `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    ROOT,
    free_port,
    production_env,
    recreate_database,
    seed_signed_application,
    setup_django,
    wait_for_port,
)

DB_NAME = "hubdash_bench"
ENV = production_env(DB_NAME)
TARGET_EVENTS_PER_SECOND = 450


def _write_events(path: Path, *, channel_id: str, secret: str, count: int, contacts: int) -> None:
    from channels_app.hub.signatures import sign

    now = int(time.time())
    with path.open("w") as out:
        for i in range(count):
            event = {
                "eventType": "Message",
                "channelId": channel_id,
                "messageId": f"wamid.bench.{uuid.uuid4().hex}",
                "from": f"55219{(i % contacts):08d}",
                "timestamp": now,
                "channel": "whatsapp",
                "content": {"type": "text", "text": f"Olá, pedido #{i}: quando chega?"},
            }
            body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            out.write(f"{sign(body.encode(), secret, now)}\t{body}\n")


_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _wrk(url: str, data: Path, *, connections: int, done: Callable[[], bool], threads: int = 2) -> dict:
    """Post every event in `data` with wrk; the run ends when `done()` says the server stored them all.

    The time is taken from the database, not from wrk: an event counts once it is committed.
    """
    cmd = [
        "wrk", "--latency", f"-t{threads}", f"-c{connections}", "-d300s", "--timeout", "10s",
        "-s", str(ROOT / "bench" / "webhook.lua"), url, "--", str(data), str(threads),
    ]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while not done():
            if proc.poll() is not None or time.monotonic() - started > 300:
                raise SystemExit(f"wrk ended before every event was stored:\n{proc.communicate()[0]}")
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        proc.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
        out = proc.communicate(timeout=30)[0]
    finally:
        # Never leave wrk behind (the bench failed, or was interrupted): it would keep a core busy
        # hammering a closed port, and skew every later measurement on this machine.
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {f"p{p}": float(v) * scale[u] for p, v, u in _LATENCY.findall(out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"seconds": elapsed, "non2xx": int(non2xx.group(1)) if non2xx else 0, "latency_ms": latency}


def _stored(queryset, target: int) -> Callable[[], bool]:
    return lambda: queryset.count() >= target


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=6000, help="unique events per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--contacts", type=int, default=500, help="distinct customers the events come from")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    recreate_database(DB_NAME)
    setup_django(ENV)
    app, channel, secret = seed_signed_application()
    from conversations.models import Conversation, Message, WebhookEvent

    port = free_port()
    env = {**os.environ, **ENV}
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # daphne logs every request; an unread pipe would stall it
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/hub/webhook/{app.public_id}/"
    results: list[dict] = []
    try:
        wait_for_port(port)
        with tempfile.TemporaryDirectory() as tmp:
            # Warm-up: imports, the pool's connections, the first contacts and conversations.
            warm = Path(tmp) / "warm.tsv"
            _write_events(
                warm, channel_id=str(channel.hub_channel_id), secret=secret, count=500, contacts=args.contacts
            )
            _wrk(
                url,
                warm,
                connections=args.connections,
                done=_stored(Message.objects, Message.objects.count() + 500),
            )
            for run in range(1, args.runs + 1):
                data = Path(tmp) / f"run{run}.tsv"
                _write_events(
                    data,
                    channel_id=str(channel.hub_channel_id),
                    secret=secret,
                    count=args.events,
                    contacts=args.contacts,
                )
                before = Message.objects.count()
                cpu = _cpu_seconds(server.pid)
                new = _wrk(
                    url,
                    data,
                    connections=args.connections,
                    done=_stored(Message.objects, before + args.events),
                )
                new_cpu_ms = (_cpu_seconds(server.pid) - cpu) * 1000 / args.events
                stored = Message.objects.count() - before
                duplicates = WebhookEvent.objects.filter(outcome="duplicate")
                dup = _wrk(
                    url,
                    data,
                    connections=args.connections,
                    done=_stored(duplicates, duplicates.count() + args.events),
                )
                stored_after_dup = Message.objects.count() - before
                results.append(
                    {
                        "run": run,
                        "new_eps": args.events / new["seconds"],
                        "new": new,
                        "new_cpu_ms": new_cpu_ms,
                        "stored": stored,
                        "dup_eps": args.events / dup["seconds"],
                        "dup": dup,
                        "stored_after_duplicates": stored_after_dup,
                    }
                )
                print(
                    f"run {run}: new {results[-1]['new_eps']:.0f} ev/s (p50 {new['latency_ms'].get('p50', 0):.1f} ms,"
                    f" p99 {new['latency_ms'].get('p99', 0):.1f} ms, non-2xx {new['non2xx']},"
                    f" daphne CPU {new_cpu_ms:.2f} ms/event), stored {stored}/{args.events};"
                    f" duplicates {results[-1]['dup_eps']:.0f} ev/s, stored after duplicates {stored_after_dup}",
                    flush=True,
                )
        rss = _rss_mb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)

    median_new = statistics.median(r["new_eps"] for r in results)
    median_dup = statistics.median(r["dup_eps"] for r in results)
    # An event whose request was cut when wrk stopped is posted again by the duplicate pass: after both
    # passes every event must be stored exactly once.
    lost = sum(args.events - r["stored_after_duplicates"] for r in results)
    doubled = sum(max(0, r["stored_after_duplicates"] - args.events) for r in results)
    conversations = Conversation.objects.count()
    events = WebhookEvent.objects.count()
    print()
    print(
        f"median new events/s (one daphne process): {median_new:.0f}  (target {TARGET_EVENTS_PER_SECOND}:"
        f" {median_new / TARGET_EVENTS_PER_SECOND:.2f}x)"
    )
    print(f"median duplicate deliveries/s:           {median_dup:.0f}  ({median_dup / median_new:.2f}x new)")
    print(
        f"messages lost: {lost}, stored twice: {doubled}; conversations: {conversations}; webhook rows: {events}"
    )
    print(
        f"daphne CPU per new event: {statistics.median(r['new_cpu_ms'] for r in results):.2f} ms"
        " (median; what one process would take per event with a core to itself)"
    )
    print(f"daphne RSS after the runs: {rss:.0f} MB")
    if lost or doubled:
        raise SystemExit("FAILED: events were lost or stored twice")


if __name__ == "__main__":
    main()
