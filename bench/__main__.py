"""Webhook ingest throughput of daphne on PostgreSQL + Redis (the production configuration), against a
bare Django view on the same servers in the same run.

    .venv/bin/python -m bench [--events 3000] [--runs 3] [--connections 32] [--processes 1,2]
                              [--baseline-root DIR]

For each run and each number of server processes (1, then 2: two daphne processes on two ports, wrk's
connections split between them, as nginx would split them; docs/scaling.md):

1. the anchor: wrk POSTs the same signed bodies to `/bench/bare-post/` (bench/urls.py, a Django view that
   reads the body and answers, through Django's middleware) for `--bare-seconds`: requests/s;
2. a fresh set of unique, signed `Message` events is posted by wrk (a C load generator, so the load
   generator takes little of the CPU the server needs) through the real ASGI stack, each exactly once;
   the clock stops when the database holds them all;
3. the same events again (every one a duplicate, as when the Hub's deliveries are retried).

With `--baseline-root DIR` (another checkout: `mkdir /tmp/base && git archive <commit> | tar -x -C
/tmp/base`), each run also measures one daphne process serving that checkout's code, on the same database
and in the same run, so that "no slower than before" compares like with like on a noisy machine.

Reports per run and medians: new events/s and its ratio to the bare view's requests/s, duplicates/s,
wrk's latency percentiles, the servers' CPU per request, the rows stored (nothing lost, nothing doubled)
and the servers' memory. Needs PostgreSQL and Redis on 127.0.0.1 and `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    ROOT,
    Profiler,
    clear_channel_layer,
    cpu_seconds,
    free_port,
    production_env,
    recreate_database,
    seed_signed_application,
    setup_django,
    signed_message_events,
    stop_server,
    wait_for_port,
)

DB_NAME = "hubdash_bench"
# bench.settings: Hubdash's settings and URLs plus the bare views, so one server serves both.
ENV = {**production_env(DB_NAME), "DJANGO_SETTINGS_MODULE": "bench.settings"}
TARGET_RATIO = 0.9  # new events/s over the bare view's requests/s, with as many processes


def _write_events(path: Path, *, channel_id: str, secret: str, count: int, contacts: int) -> None:
    """The events as bench/webhook.lua reads them: one `signature<TAB>body` line each."""
    events = signed_message_events(channel_id=channel_id, secret=secret, count=count, contacts=contacts)
    path.write_text("".join(f"{signature}\t{body}\n" for signature, body in events))


_LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_SCALE = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(
    targets: list[tuple[str, Path]],
    *,
    connections: int,
    done: Callable[[], bool] | None = None,
    seconds: float = 0,
) -> dict:
    """Post with one wrk per (url, data file), its share of `connections` each (two threads in all).

    With `done`: each event of the files once; the run ends when `done()` says the server stored them
    all, so the time is taken from the database, not from wrk (an event counts once it is committed).
    Without: the files over and over for `seconds`, and requests/s are wrk's.
    """
    threads = max(1, 2 // len(targets))
    procs = []
    for url, data in targets:
        cmd = [
            "wrk", "--latency", f"-t{threads}", f"-c{connections // len(targets)}",
            f"-d{seconds:g}s" if done is None else "-d300s", "--timeout", "10s",
            "-s", str(ROOT / "bench" / "webhook.lua"), url, "--", str(data), str(threads),
        ]  # fmt: skip
        if done is None:
            cmd.append("loop")
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    started = time.monotonic()
    try:
        if done is None:
            outs = [proc.communicate(timeout=seconds + 30)[0] for proc in procs]
        else:
            while not done():
                if any(proc.poll() is not None for proc in procs) or time.monotonic() - started > 300:
                    raise SystemExit(
                        "wrk ended before every event was stored:\n"
                        + "".join(p.communicate()[0] for p in procs)
                    )
                time.sleep(0.05)
            for proc in procs:
                proc.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
            outs = [proc.communicate(timeout=30)[0] for proc in procs]
        elapsed = time.monotonic() - started
    finally:
        # Never leave wrk behind (the bench failed, or was interrupted): it would keep a core busy
        # hammering a closed port, and skew every later measurement on this machine.
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    latency: dict[str, float] = {}
    for out in outs:  # the worse of the wrk processes
        for p, v, u in _LATENCY.findall(out):
            latency[f"p{p}"] = max(latency.get(f"p{p}", 0.0), float(v) * _SCALE[u])
    non2xx = sum(int(m) for out in outs for m in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    requests = sum(int(m) for out in outs for m in re.findall(r"(\d+) requests in", out))
    return {
        "seconds": elapsed,
        "non2xx": non2xx,
        "latency_ms": latency,
        "rps": sum(float(m) for out in outs for m in re.findall(r"Requests/sec:\s+([\d.]+)", out)),
        "requests": requests,
    }


def _stored(queryset, count: int) -> Callable[[], bool]:
    """Whether `count` rows of `queryset` were stored since now. Counted by primary key past the current
    last one: an index range of the new rows only, so that asking twenty times a second costs the
    database little (it shares the machine with the servers measured)."""
    last = queryset.model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    new = queryset.filter(pk__gt=last)
    return lambda: new.count() >= count


def _split(data: Path, parts: int) -> list[Path]:
    """`data`'s lines dealt round-robin into `parts` files (one per server process)."""
    if parts == 1:
        return [data]
    lines = data.read_text().splitlines(keepends=True)
    paths = [data.with_suffix(f".{n}.tsv") for n in range(parts)]
    for n, path in enumerate(paths):
        path.write_text("".join(lines[n::parts]))
    return paths


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def _start_server(port: int, root: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "hubdash.asgi:application"],
        cwd=root,  # `-m` puts the working directory first on sys.path: the code served is root's
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # daphne logs every request; an unread pipe would stall it
        start_new_session=True,
    )


def _cpu(servers: list[subprocess.Popen]) -> float:
    return sum(cpu_seconds(server.pid) for server in servers)


def _database_cpu() -> dict[int, float]:
    """CPU so far of each PostgreSQL backend of the bench's database (the servers' pools), but the bench's
    own: with the servers', what an event costs the machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    seconds = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # gone meanwhile
            seconds[pid] = cpu_seconds(pid)
    return seconds


def _database_cpu_since(before: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in _database_cpu().items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000, help="unique events per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--contacts", type=int, default=500, help="distinct customers the events come from")
    parser.add_argument("--processes", default="1,2", help="server processes to measure, in order")
    parser.add_argument("--bare-seconds", type=float, default=5.0, help="how long the bare view is posted")
    parser.add_argument(
        "--baseline-root", type=Path, default=None, help="also measure this checkout's daphne"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy (--gil) the first server during run 1's passes: DIR/<processes>-<pass>.txt, raw stacks",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    counts = [int(n) for n in args.processes.split(",")]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    recreate_database(DB_NAME)
    clear_channel_layer(ENV)
    setup_django(ENV)
    app, channel, secret = seed_signed_application()
    from conversations.models import Conversation, Message, WebhookEvent

    ports = [free_port() for _ in range(max(counts))]
    servers = [_start_server(port) for port in ports]
    # Each pass: its label and the (port, server) pairs it posts to.
    passes = [(str(n), list(zip(ports[:n], servers[:n], strict=True))) for n in counts]
    if args.baseline_root:
        port = free_port()
        servers.append(_start_server(port, root=args.baseline_root.resolve()))
        ports.append(port)
        passes.append(("1 (baseline)", [(port, servers[-1])]))
    webhook = f"/hub/webhook/{app.public_id}/"
    results: dict[str, list[dict]] = {label: [] for label, _ in passes}

    def write(path: Path, count: int) -> Path:
        _write_events(
            path, channel_id=str(channel.hub_channel_id), secret=secret, count=count, contacts=args.contacts
        )
        return path

    def profiled(run: int, label: str, name: str) -> Profiler | None:
        if not args.profile or run != 1:
            return None
        return Profiler(servers[0].pid, args.profile / f"{label.split()[0]}-{name}.txt")

    try:
        for port in ports:
            wait_for_port(port)
        with tempfile.TemporaryDirectory() as tmp:
            # Warm-up of every server: imports, the pool's connections, the first contacts and conversations.
            warm = write(Path(tmp) / "warm.tsv", 500)
            _wrk(
                [
                    (f"http://127.0.0.1:{port}{webhook}", path)
                    for port, path in zip(ports, _split(warm, len(ports)), strict=True)
                ],
                connections=args.connections,
                done=_stored(Message.objects, 500),
            )
            for run in range(1, args.runs + 1):
                for index, (label, pairs) in enumerate(passes):
                    used = [server for _, server in pairs]
                    used_ports = [port for port, _ in pairs]
                    n = len(pairs)
                    # The anchor: the warm-up's bodies (signed events like the rest) to the bare view.
                    cpu = _cpu(used)
                    profiler = profiled(run, label, "bare")
                    bare = _wrk(
                        [(f"http://127.0.0.1:{port}/bench/bare-post/", warm) for port in used_ports],
                        connections=args.connections,
                        seconds=args.bare_seconds,
                    )
                    if profiler:
                        profiler.stop()
                    bare_cpu_ms = (_cpu(used) - cpu) * 1000 / max(1, bare["requests"])

                    data = write(Path(tmp) / f"run{run}-{index}.tsv", args.events)
                    targets = [
                        (f"http://127.0.0.1:{port}{webhook}", path)
                        for port, path in zip(used_ports, _split(data, n), strict=True)
                    ]
                    before = Message.objects.count()
                    cpu, database_cpu = _cpu(used), _database_cpu()
                    profiler = profiled(run, label, "new")
                    new = _wrk(
                        targets,
                        connections=args.connections,
                        done=_stored(Message.objects, args.events),
                    )
                    if profiler:
                        profiler.stop()
                    new_cpu_ms = (_cpu(used) - cpu) * 1000 / args.events
                    new_db_cpu_ms = _database_cpu_since(database_cpu) * 1000 / args.events
                    stored = Message.objects.count() - before
                    duplicates = WebhookEvent.objects.filter(outcome="duplicate")
                    cpu = _cpu(used)
                    dup = _wrk(
                        targets,
                        connections=args.connections,
                        done=_stored(duplicates, args.events),
                    )
                    dup_cpu_ms = (_cpu(used) - cpu) * 1000 / args.events
                    stored_after_dup = Message.objects.count() - before
                    r = {
                        "bare_rps": bare["rps"],
                        "bare": bare,
                        "bare_cpu_ms": bare_cpu_ms,
                        "new_eps": args.events / new["seconds"],
                        "new": new,
                        "new_cpu_ms": new_cpu_ms,
                        "new_db_cpu_ms": new_db_cpu_ms,
                        "stored": stored,
                        "dup_eps": args.events / dup["seconds"],
                        "dup": dup,
                        "dup_cpu_ms": dup_cpu_ms,
                        "stored_after_duplicates": stored_after_dup,
                    }
                    results[label].append(r)
                    print(
                        f"run {run}, processes {label}:"
                        f" bare view {r['bare_rps']:.0f} req/s (p50 {bare['latency_ms'].get('p50', 0):.1f},"
                        f" p99 {bare['latency_ms'].get('p99', 0):.1f} ms, CPU {bare_cpu_ms:.2f} ms/req,"
                        f" non-2xx {bare['non2xx']});"
                        f" new {r['new_eps']:.0f} ev/s = {r['new_eps'] / r['bare_rps']:.2f}x"
                        f" (p50 {new['latency_ms'].get('p50', 0):.1f}, p99 {new['latency_ms'].get('p99', 0):.1f} ms,"
                        f" CPU {new_cpu_ms:.2f} ms/event + PostgreSQL {new_db_cpu_ms:.2f}, non-2xx {new['non2xx']}),"
                        f" stored {stored}/{args.events};"
                        f" duplicates {r['dup_eps']:.0f} ev/s (CPU {dup_cpu_ms:.2f} ms/event),"
                        f" stored after duplicates {stored_after_dup}",
                        flush=True,
                    )
        rss = [_rss_mb(server.pid) for server in servers]
    finally:
        for server in servers:
            stop_server(server)

    print()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(
        "| processes | bare view req/s | new events/s | ratio | duplicates/s"
        " | CPU ms per request: bare / new (+ PostgreSQL) / duplicate |"
    )
    print("|---|---|---|---|---|---|")
    lost = doubled = 0
    for n, rows in results.items():
        med = {
            key: statistics.median(r[key] for r in rows) for key in rows[0] if isinstance(rows[0][key], float)
        }
        ratio = statistics.median(r["new_eps"] / r["bare_rps"] for r in rows)
        print(
            f"| {n} | {med['bare_rps']:.0f} | {med['new_eps']:.0f} | **{ratio:.2f}x** (target {TARGET_RATIO}x)"
            f" | {med['dup_eps']:.0f} | {med['bare_cpu_ms']:.2f} / {med['new_cpu_ms']:.2f}"
            f" (+ {med['new_db_cpu_ms']:.2f}) / {med['dup_cpu_ms']:.2f} |"
        )
        # An event whose request was cut when wrk stopped is posted again by the duplicate pass: after
        # both passes every event must be stored exactly once.
        lost += sum(args.events - r["stored_after_duplicates"] for r in rows)
        doubled += sum(max(0, r["stored_after_duplicates"] - args.events) for r in rows)
    print(
        f"messages lost: {lost}, stored twice: {doubled}; conversations: {Conversation.objects.count()};"
        f" webhook rows: {WebhookEvent.objects.count()}"
    )
    print(f"daphne RSS after the runs: {', '.join(f'{mb:.0f}' for mb in rss)} MB")
    if lost or doubled:
        raise SystemExit("FAILED: events were lost or stored twice")


if __name__ == "__main__":
    main()
