"""Replies stored, then sent by the workers to the Hub (the sandbox), against the bare Hub client.

    .venv/bin/python -m bench.sending [--replies 600] [--runs 3]

Production configuration (PostgreSQL, DEBUG=false), the Hub sandbox on loopback. Per run:
- **store**: `do_send_reply` for each reply, timed one by one (what an agent's click costs);
- **anchor**: `HubClient.send_message` in a loop, as fast as it goes, against the same sandbox;
- **1 worker / 2 workers**: `manage.py run_worker` processes send every stored reply; the rate is replies
  whose status left `pending`, per second from the workers' start to the last one.
Prints medians and the workers' rate as a share of the anchor's (target: two workers ≥ 40 %).
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

from bench.common import ROOT, production_env, recreate_database, setup_django

DB_NAME = "hubdash_bench_sending"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from hubsandbox.server import HubSandbox

    sandbox = HubSandbox(seed=7).start()
    env = {**production_env(DB_NAME), "HUB_BASE_URL": sandbox.url}
    recreate_database(DB_NAME)
    setup_django(env)

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

    def anchor(count: int) -> float:
        started = time.monotonic()
        for n in range(count):
            client.send_message(
                channel_kind="telegram", channel_id=str(channel.hub_channel_id), to="123456789",
                content={"text": f"anchor {n}"},
            )  # fmt: skip
        return count / (time.monotonic() - started)

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

    def workers(count: int, replies: int) -> float:
        pending = Message.objects.filter(status="pending", direction="out")
        procs = [
            subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--interval", "0.05"],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(count)
        ]
        started = time.monotonic()
        try:
            while pending.exists():
                if time.monotonic() - started > 300:
                    raise SystemExit("the workers did not send every reply within 300 s")
                time.sleep(0.02)
            return replies / (time.monotonic() - started)
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=30)

    anchor(50)  # warm-up: the connection, the sandbox's first answers
    rows: dict[str, list[float]] = {
        "anchor": [],
        "1 worker": [],
        "2 workers": [],
        "store p50": [],
        "store p99": [],
    }
    print(
        f"{args.replies} replies per pass, {args.runs} runs; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    try:
        for run in range(1, args.runs + 1):
            rows["anchor"].append(anchor(args.replies))
            for count in (1, 2):
                timings = sorted(store(args.replies))
                rows["store p50"].append(timings[len(timings) // 2])
                rows["store p99"].append(timings[int(len(timings) * 0.99)])
                rows[f"{count} worker{'s' if count > 1 else ''}"].append(workers(count, args.replies))
            print(
                f"run {run}: anchor {rows['anchor'][-1]:.0f}/s, 1 worker {rows['1 worker'][-1]:.1f}/s,"
                f" 2 workers {rows['2 workers'][-1]:.1f}/s, storing a reply p50 {rows['store p50'][-1]:.1f} ms"
                f" p99 {rows['store p99'][-1]:.1f} ms",
                flush=True,
            )
    finally:
        sandbox.stop()
    median = {label: statistics.median(values) for label, values in rows.items()}
    print()
    print(f"anchor (bare HubClient.send_message loop): {median['anchor']:.0f} replies/s")
    for label in ("1 worker", "2 workers"):
        print(
            f"{label}: {median[label]:.1f} replies/s = {median[label] / median['anchor']:.0%} of the anchor"
        )
    print(
        f"storing a reply: p50 {median['store p50']:.1f} ms, p99 {median['store p99']:.1f} ms (target <= 10 ms)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
