"""Pages at a million messages, against a bare Django view in the same run.

    .venv/bin/python -m bench.pages [--reuse] [--seconds 8] [--runs 3] [--connections 4]

Builds the data set of bench/dataset.py (100k conversations, 1M messages, one 50,000-message thread)
unless `--reuse`, prints EXPLAIN ANALYZE of the queries behind each page, then serves Hubdash with one
daphne process (production configuration) and loads each page with wrk at `--connections`, signed in as
an agent, alternating the pages in every run: the bare view (bench/urls.py), the inbox, the long
thread, "load older" at that thread's far end, and two searches. Medians of the runs' p50 and p99.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

from bench.common import ROOT, production_env, setup_django, stop_server
from bench.dataset import DB_NAME, build

ENV = {**production_env(DB_NAME), "DJANGO_SETTINGS_MODULE": "bench.settings"}
_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _explain(long_thread: int) -> None:
    from django.contrib.auth import get_user_model

    from conversations.models import Conversation, Message
    from conversations.selectors.inbox import InboxFilters, inbox_conversations, live_row

    user = get_user_model().objects.get(username="bench")
    conversation = Conversation.objects.get(pk=long_thread)
    oldest = list(
        Message.objects.filter(conversation=conversation).order_by("id").values_list("id", flat=True)[:41]
    )
    thread = Message.objects.filter(conversation=conversation)
    queries = {
        "inbox list": inbox_conversations(user=user, filters=InboxFilters())[:31],
        "inbox list, open only": inbox_conversations(user=user, filters=InboxFilters(status="open"))[:31],
        # What thread_page runs: the page's ids from the thread_keyset index alone, then those rows.
        "thread page, its ids": thread.order_by("-id").values_list("id", flat=True)[:41],
        "load older at the far end, its ids": (
            thread.filter(id__lt=oldest[-1]).order_by("-id").values_list("id", flat=True)[:41]
        ),
        "those rows": Message.objects.select_related("author", "conversation__contact")
        .filter(pk__in=oldest[:40])
        .order_by("id"),
        "search a reference": inbox_conversations(user=user, filters=InboxFilters(q="ref123457"))[:31],
        "search a name": inbox_conversations(user=user, filters=InboxFilters(q="Cliente 5001"))[:31],
    }
    for label, qs in queries.items():
        print(f"\n--- {label}\n{qs.explain(analyze=True, buffers=True)}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        live_row(conversation_id=long_thread)
    print(f"\n--- live row\n{Conversation.objects.filter(pk=long_thread).explain(analyze=True)}")
    print(f"(live row: {len(captured)} query)")


def _session_cookie() -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _wrk(url: str, cookie: str, *, seconds: float, connections: int) -> dict[str, float]:
    cmd = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s"]
    cmd += ["-H", f"Cookie: {cookie}", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Non-2xx" in out or "Latency Distribution" not in out:
        raise SystemExit(f"{url} answered errors:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    found = {f"p{p}": float(v) * scale[u] for p, v, u in _LATENCY.findall(out)}
    requests = re.search(r"Requests/sec:\s+([\d.]+)", out)
    found["rps"] = float(requests.group(1)) if requests else 0.0
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reuse", action="store_true", help="keep the data set a previous run built")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    if not args.reuse:
        from bench.common import recreate_database

        recreate_database(DB_NAME)
    setup_django(ENV)
    from conversations.models import Conversation, Message

    if not args.reuse or not Message.objects.exists():
        started = time.monotonic()
        build(100_000, 1_000_000)
        print(f"data set built in {time.monotonic() - started:.0f} s", flush=True)
    # The long thread is the one the data set made most recently active.
    long_thread = Conversation.objects.filter(application__name="Bench A").order_by("-last_activity_at")[0].pk
    _explain(long_thread)
    oldest = list(
        Message.objects.filter(conversation_id=long_thread).order_by("id").values_list("id", flat=True)[:41]
    )
    cookie = _session_cookie()
    port = 8000 + os.getpid() % 1000
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    pages = {
        "bare Django view": "/bench/bare/",
        "inbox page": "/",
        "thread page (50,000 messages)": f"/conversations/{long_thread}/",
        "load older, far end": f"/conversations/{long_thread}/messages/?before={oldest[-1]}",
        "search a reference": "/?q=ref123457",
        "search a name": "/?q=Cliente+5001",
    }
    results: dict[str, list[dict[str, float]]] = {label: [] for label in pages}
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["curl", "-s", "-o", "/dev/null", base], check=False).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("daphne did not start")
            time.sleep(0.2)
        for url in pages.values():  # warm-up
            _wrk(base + url, cookie, seconds=2, connections=args.connections)
        print(
            f"\nc={args.connections}, {args.seconds:g} s per page, {args.runs} runs; load {os.getloadavg()[0]:.2f}"
        )
        for run in range(args.runs):
            order = list(pages.items())
            order = order[run % len(order) :] + order[: run % len(order)]
            for label, url in order:
                found = _wrk(base + url, cookie, seconds=args.seconds, connections=args.connections)
                results[label].append(found)
                print(
                    f"run {run + 1}: {label:<32} p50 {found['p50']:.1f} ms, p99 {found['p99']:.1f} ms,"
                    f" {found['rps']:.0f} req/s",
                    flush=True,
                )
    finally:
        stopped = stop_server(server)

    bare99 = statistics.median(r["p99"] for r in results["bare Django view"])
    print("\n| page | p50 ms | p99 ms | p99 / bare view |\n|---|---|---|---|")
    for label, runs in results.items():
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {p99 / bare99:.2f}x |")
    print(f"SIGTERM to exit after the load: {stopped:.1f} s (target <= 10 s)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
