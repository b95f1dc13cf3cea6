"""Replies stored, then sent by the workers to the Hub (the sandbox), against the bare Hub client.

    .venv/bin/python -m bench.sending [--replies 600] [--runs 3] [--threads 4] [--database NAME]
                                      [--baseline-root DIR]

Production configuration (PostgreSQL, Redis, DEBUG=false), the Hub sandbox on loopback, in this process.
Per run, for each pass of workers (1 worker, 2 workers, and the baseline's):
- **store**: `do_send_reply` for each reply, timed one by one (what an agent's click costs);
- **anchor**: right before the pass, `HubClient.send_message` in a loop, one call after the other, as fast
  as it goes, in a process of its own (as a worker is), against the same sandbox (once per run, also the
  same loop in this process, the sandbox's: the anchor of the figures before 2026-11-29);
- **1 worker / 2 workers**: `manage.py run_worker` processes send every stored reply. The replies are held
  (not due) until every worker has started, then made due at once: the clock runs from that moment to the
  last reply the Hub accepted (its `sent_at`), so a worker's start-up is not counted. Every reply must end
  `sent`, each accepted by the sandbox exactly once, or the bench fails.
With `--baseline-root` (another checkout: `mkdir /tmp/base && git archive HEAD~1 | tar -x -C /tmp/base`),
the same passes run that checkout's workers too, in the same runs: before and after in one measurement.

Prints medians, each pass's rate as a share of the anchor just before it (target: two workers ≥ 40 %),
and the CPU per reply of the workers and of their PostgreSQL backends (from /proc, during the pass
only): the figures that depend least on what else the machine runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench.common import ROOT, production_env, recreate_database, setup_django

DB_NAME = "hubdash_bench_sending"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def anchor_child() -> None:
    """`--anchor-child COUNT`: the bare client's loop, in a process of its own; prints rate and CPU/send."""
    count = int(sys.argv[2])
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubdash.settings"
    import django

    django.setup()
    from channels_app.hub import HubClient

    client = HubClient(api_key=os.environ["BENCH_HUB_KEY"])
    channel_id = os.environ["BENCH_CHANNEL_ID"]
    client.send_message(
        channel_kind="telegram", channel_id=channel_id, to="123456789", content={"text": "warm"}
    )
    started, cpu = time.monotonic(), time.process_time()
    for n in range(count):
        client.send_message(
            channel_kind="telegram", channel_id=channel_id, to="123456789", content={"text": f"anchor {n}"}
        )
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    print(f"{count / elapsed} {cpu / count * 1000}", flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--anchor-child":
        anchor_child()
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="run_worker --threads (default: its own)")
    parser.add_argument("--database", default=DB_NAME, help="the bench's own database (recreated)")
    parser.add_argument("--baseline-root", type=Path, default=None, help="also run this checkout's workers")
    args = parser.parse_args()

    from hubsandbox.server import HubSandbox

    sandbox = HubSandbox(seed=7).start()  # its listen queue holds 128 connections (hubsandbox/server.py)
    env = {**production_env(args.database), "HUB_BASE_URL": sandbox.url}
    recreate_database(args.database)
    setup_django(env)

    from django.db.models import Max
    from django.utils import timezone

    from channels_app.hub import HubClient
    from channels_app.models import Application, Channel
    from conversations.actions.replies import do_send_reply
    from conversations.models import Contact, Conversation, Message

    app = Application(name="Sending bench")
    app.set_api_key("bench-send-key-" + uuid.uuid4().hex)
    app.save()
    channel = Channel.objects.create(
        application=app, hub_channel_id=uuid.uuid4(), kind="telegram", display_name="Bench Telegram"
    )
    sandbox.add_application(
        name=app.name,
        api_key=app.hub_api_key,
        channels=[{"id": str(channel.hub_channel_id), "kind": "telegram", "name": channel.display_name}],
    )
    contact = Contact.objects.create(channel=channel, external_id="123456789", display_name="Cliente")
    conversation = Conversation.objects.create(
        application=app, channel=channel, contact=contact, last_activity_at=timezone.now()
    )
    client = HubClient.for_application(app)
    # As in daphne and run_worker: events go out through a long-lived loop, not one built per publish.
    from channels_app.realtime import publisher

    publisher.start_background_loop()
    child_env = {
        **os.environ,
        **env,
        "BENCH_HUB_KEY": app.hub_api_key,
        "BENCH_CHANNEL_ID": str(channel.hub_channel_id),
        "PYTHONUNBUFFERED": "1",
    }

    def anchor_here(count: int) -> float:
        started = time.monotonic()
        for n in range(count):
            client.send_message(
                channel_kind="telegram", channel_id=str(channel.hub_channel_id), to="123456789",
                content={"text": f"anchor {n}"},
            )  # fmt: skip
        return count / (time.monotonic() - started)

    def anchor_process(count: int) -> tuple[float, float]:
        out = subprocess.run(
            [sys.executable, "-m", "bench.sending", "--anchor-child", str(count)],
            cwd=ROOT, env=child_env, capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        return float(out[0]), float(out[1])

    def store(count: int) -> list[float]:
        timings = []
        for n in range(count):
            started = time.perf_counter()
            do_send_reply(
                conversation=conversation,
                author=None,
                content={"text": f"reply {n}"},
                idempotency_key=uuid.uuid4().hex,
            )
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    from django.db import connection

    def database_backends() -> list[int]:
        """The PostgreSQL backends of this database but this process's own (the workers', once started)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]

    def workers(count: int, replies: int, root: Path, extra: list[str]) -> tuple[float, float, float]:
        """Send the `replies` pending replies with `count` workers of checkout `root`: (replies/s, CPU ms
        per reply of the workers, and of their PostgreSQL backends, over the pass)."""
        pending = Message.objects.filter(status="pending", direction="out")
        # Held until every worker is up: a worker's start-up (imports, the first sweep) is not sending.
        pending.update(next_attempt_at=timezone.now() + timedelta(days=1))
        accepted_before = len(sandbox.accepted_sends())
        procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--interval", "0.05", *extra],
                cwd=root,
                env={**child_env, "PYTHONPATH": str(root)},
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
            for _ in range(count)
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                line = proc.stdout.readline()  # "Worker … started; …", once it is ready to send
                if "started" not in line:
                    raise SystemExit(f"a worker did not start: {line!r}")
            cpu = [cpu_seconds(proc.pid) for proc in procs]
            backends = {pid: cpu_seconds(pid) for pid in database_backends()}
            released = timezone.now()
            pending.update(next_attempt_at=released)
            while pending.exists():
                if (timezone.now() - released).total_seconds() > 300:
                    raise SystemExit("the workers did not send every reply within 300 s")
                time.sleep(0.02)
            cpu = [cpu_seconds(proc.pid) - before for proc, before in zip(procs, cpu, strict=True)]
            # A backend a worker opened during the pass counts from zero; one it closed is not counted.
            database = sum(
                cpu_seconds(pid) - backends.get(pid, 0.0)
                for pid in database_backends()
                if Path(f"/proc/{pid}").exists()
            )
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=30)
        pass_replies = Message.objects.filter(direction="out", sent_at__gte=released)
        statuses = set(pass_replies.values_list("status", flat=True))
        accepted = len(sandbox.accepted_sends()) - accepted_before
        if pass_replies.count() != replies or statuses != {"sent"} or accepted != replies:
            raise SystemExit(
                f"not every reply sent exactly once: {statuses}, {accepted} accepted of {replies}"
            )
        last = pass_replies.aggregate(last=Max("sent_at"))["last"]
        return (
            replies / (last - released).total_seconds(),
            sum(cpu) / replies * 1000,
            database / replies * 1000,
        )

    passes: list[tuple[str, int, Path, list[str]]] = []
    threads = ["--threads", str(args.threads)] if args.threads else []
    for count in (1, 2):
        label = f"{count} worker{'s' if count > 1 else ''}"
        passes.append((label, count, ROOT, threads))
        if args.baseline_root:
            passes.append((f"{label} (baseline)", count, args.baseline_root.resolve(), []))

    anchor_here(50)  # warm-up: the connection, the sandbox's first answers
    rows: dict[str, list[float]] = {"anchor": [], "anchor CPU": [], "anchor in the sandbox's process": []}
    for label, *_ in passes:
        for key in (label, f"{label} share", f"{label} CPU", f"{label} PostgreSQL"):
            rows[key] = []
    rows["store p50"], rows["store p99"] = [], []
    print(
        f"{args.replies} replies per pass, {args.runs} runs; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    try:
        for run in range(1, args.runs + 1):
            rows["anchor in the sandbox's process"].append(anchor_here(args.replies))
            line = [f"run {run}:"]
            for label, count, root, extra in passes:
                timings = sorted(store(args.replies))
                rows["store p50"].append(timings[len(timings) // 2])
                rows["store p99"].append(timings[int(len(timings) * 0.99)])
                # The anchor right before each pass: this machine's load moves within a minute.
                rate, cpu = anchor_process(args.replies)
                rows["anchor"].append(rate)
                rows["anchor CPU"].append(cpu)
                sent, cpu, database = workers(count, args.replies, root, extra)
                rows[label].append(sent)
                rows[f"{label} share"].append(sent / rate)
                rows[f"{label} CPU"].append(cpu)
                rows[f"{label} PostgreSQL"].append(database)
                line.append(
                    f"anchor {rate:.0f}/s, {label} {sent:.1f}/s = {sent / rate:.0%} "
                    f"(CPU per reply: workers {cpu:.2f} ms, PostgreSQL {database:.2f} ms)"
                )
            line.append(f"store p50 {rows['store p50'][-1]:.1f} ms, load {os.getloadavg()[0]:.2f}")
            print(", ".join(line), flush=True)
    finally:
        publisher.close()
        sandbox.stop()
    median = {label: statistics.median(values) for label, values in rows.items()}
    print()
    here = median["anchor in the sandbox's process"]
    print(
        f"anchor (bare HubClient.send_message loop, own process): {median['anchor']:.0f} replies/s, "
        f"{median['anchor CPU']:.2f} ms CPU per send; in the sandbox's process: {here:.0f}/s"
    )
    for label, *_ in passes:
        print(
            f"{label}: {median[label]:.1f} replies/s = {median[f'{label} share']:.0%} of the anchor "
            f"(median of the passes' shares); CPU per reply: workers {median[f'{label} CPU']:.2f} ms, "
            f"PostgreSQL {median[f'{label} PostgreSQL']:.2f} ms"
        )
    print(
        f"storing a reply: p50 {median['store p50']:.1f} ms, p99 {median['store p99']:.1f} ms (target <= 10 ms)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
