"""Pages at a million messages, against a bare Django view in the same run.

    .venv/bin/python -m bench.pages [--reuse] [--seconds 8] [--runs 3] [--connections 4]

Builds the data set of bench/dataset.py (100k conversations, 1M messages, one 50,000-message thread)
unless `--reuse`, prints EXPLAIN ANALYZE of the queries behind each page, then serves Hubdash with one
daphne process (production configuration) and loads each page with wrk at `--connections`, signed in as
an agent, alternating the pages in every run: the bare view (bench/urls.py), the inbox, the long
thread, "load older" at that thread's far end, and two searches, each as a page and as the search box
asks it (htmx: the list and the tabs' counts). Medians of the runs' p50 and p99, and of the server
process's CPU time per request (from /proc: steadier than latency on a shared machine).
Repeated loads of a page find its rows and bubbles drawn already (conversations/templatetags/
fragments.py): these are warm figures; docs/benchmarks.md gives a first load's cost beside them.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, explain_cases, free_port, production_env, setup_django, stop_server
from bench.dataset import DB_NAME, build

ENV = {**production_env(DB_NAME), "DJANGO_SETTINGS_MODULE": "bench.settings"}
_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _explain(long_thread: int) -> None:
    """EXPLAIN ANALYZE of every query each page's selectors run, as they run it (the SQL is captured, so
    this follows the code), with planning and execution times: the list's planning costs more than its
    execution."""
    from django.contrib.auth import get_user_model

    from conversations.models import Message
    from conversations.selectors.inbox import (
        InboxFilters,
        count_groups,
        inbox_page,
        live_row,
        visible_application_list,
    )
    from conversations.selectors.thread import conversation_for, thread_page

    user = get_user_model().objects.get(username="bench")
    applications = visible_application_list(user)
    ids = [a.pk for a in applications]
    oldest = list(
        Message.objects.filter(conversation_id=long_thread).order_by("id").values_list("id", flat=True)[:41]
    )

    def thread() -> None:
        thread_page(conversation=conversation_for(user, long_thread, application_ids=ids))

    def older() -> None:
        thread_page(conversation=conversation_for(user, long_thread, bare=True), before_id=oldest[-1])

    cases = {
        # As the pages ask: the rows' Applications from the page's list, their channels' kinds from memory.
        "inbox list, every status": lambda: inbox_page(
            user=user, filters=InboxFilters(status="all"), applications=applications
        ),
        "inbox list, open only (the default view)": lambda: inbox_page(
            user=user, filters=InboxFilters(status="open"), applications=applications
        ),
        "thread page: the conversation, then its newest messages": thread,
        '"load older" at the far end: the access check, then the messages': older,
        "search a reference": lambda: inbox_page(
            user=user, filters=InboxFilters(q="ref123457"), applications=applications
        ),
        "search a name": lambda: inbox_page(
            user=user, filters=InboxFilters(q="Cliente 5001"), applications=applications
        ),
        "live row (one per event per process)": lambda: live_row(conversation_id=long_thread),
        # On every inbox and thread page and each socket's resync: the open ones (the default view).
        "view tabs' counts and unread, open": lambda: count_groups(application_ids=ids, status="open"),
        # A process's live recount: every status, for every tab it serves.
        "view tabs' counts and unread, every status": lambda: count_groups(application_ids=ids),
    }
    explain_cases(cases)


def _cpu_ms(pid: int) -> float:
    """CPU time the server process has used (user + system), in ms: per request, a figure that other
    load on the machine changes far less than latency."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _session_cookie() -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _wrk(
    url: str, cookie: str, *, seconds: float, connections: int, headers: tuple[str, ...] = ()
) -> dict[str, float]:
    cmd = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s"]
    cmd += ["-H", f"Cookie: {cookie}"]
    for header in headers:
        cmd += ["-H", header]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Non-2xx" in out or "Latency Distribution" not in out:
        raise SystemExit(f"{url} answered errors:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    found = {f"p{p}": float(v) * scale[u] for p, v, u in _LATENCY.findall(out)}
    requests = re.search(r"Requests/sec:\s+([\d.]+)", out)
    found["rps"] = float(requests.group(1)) if requests else 0.0
    total = re.search(r"(\d+) requests in", out)
    found["requests"] = float(total.group(1)) if total else 0.0
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reuse", action="store_true", help="keep the data set a previous run built")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN ANALYZE of the queries")
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
    if not args.no_explain:
        _explain(long_thread)
    oldest = list(
        Message.objects.filter(conversation_id=long_thread).order_by("id").values_list("id", flat=True)[:41]
    )
    cookie = _session_cookie()
    port = free_port()  # BENCH_PORTS chooses the range
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
        # What the search box asks as the agent types (htmx): the list, without the tabs' counts when the
        # page's counts were counted under the same filters (the header the page sends, read from it).
        "search a reference, as typed": "/?q=ref123457",
        "search a name, as typed": "/?q=Cliente+5001",
    }
    results: dict[str, list[dict[str, float]]] = {label: [] for label in pages}
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["curl", "-s", "-o", "/dev/null", base], check=False).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("daphne did not start")
            time.sleep(0.2)
        inbox = subprocess.run(
            ["curl", "-s", "-H", f"Cookie: {cookie}", base + "/"], capture_output=True, text=True
        )
        counted = re.search(r'id="view-unread"[^>]*data-counted="([^"]*)"', inbox.stdout)
        if counted is None:
            raise SystemExit("the inbox page carries no data-counted")
        typed = ("HX-Request: true", "HX-Target: inbox-list-wrap", f"X-Hubdash-Counted: {counted.group(1)}")
        headers = {label: typed if label.endswith("as typed") else () for label in pages}
        for label, url in pages.items():  # warm-up
            _wrk(base + url, cookie, seconds=2, connections=args.connections, headers=headers[label])
        print(
            f"\nc={args.connections}, {args.seconds:g} s per page, {args.runs} runs; load {os.getloadavg()[0]:.2f}"
        )
        for run in range(args.runs):
            order = list(pages.items())
            order = order[run % len(order) :] + order[: run % len(order)]
            for label, url in order:
                cpu = _cpu_ms(server.pid)
                found = _wrk(
                    base + url,
                    cookie,
                    seconds=args.seconds,
                    connections=args.connections,
                    headers=headers[label],
                )
                found["cpu"] = (_cpu_ms(server.pid) - cpu) / max(found["requests"], 1)
                results[label].append(found)
                print(
                    f"run {run + 1}: {label:<32} p50 {found['p50']:.1f} ms, p99 {found['p99']:.1f} ms,"
                    f" {found['rps']:.0f} req/s, server CPU {found['cpu']:.1f} ms/request",
                    flush=True,
                )
    finally:
        stopped = stop_server(server)

    bare99 = statistics.median(r["p99"] for r in results["bare Django view"])
    bare_cpu = statistics.median(r["cpu"] for r in results["bare Django view"])
    print(
        "\n| page | p50 ms | p99 ms | p99 / bare view | server CPU ms/request | CPU / bare view |"
        "\n|---|---|---|---|---|---|"
    )
    for label, runs in results.items():
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        print(
            f"| {label} | {p50:.1f} | {p99:.1f} | {p99 / bare99:.2f}x | {cpu:.1f} | {cpu / bare_cpu:.1f}x |"
        )
    print(f"SIGTERM to exit after the load: {stopped:.1f} s (target <= 10 s)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
