"""`manage.py run_worker`: the background worker that sends replies.

It sends due replies (conversations/worker.py: the replies table is the queue; several workers may run
at once, each reply is taken with SELECT ... FOR UPDATE SKIP LOCKED; each worker keeps --threads Hub
calls in flight), plus the recovery sweep for replies
a dead worker left `pending` — at start, then every WORKER_SWEEP_INTERVAL seconds, in a thread — and
housekeeping (conversations/actions/housekeeping.py) in another.

SIGTERM/SIGINT: finish the replies in hand (store the Hub's answers), then exit (a second signal, more
than 2 s later, exits at once). SIGKILL loses nothing: the killed worker's replies (at most --threads)
keep their leases until HUB_SEND_LEASE_SECONDS, then the sweep of any worker makes them due again.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from channels_app.realtime import publisher
from conversations.worker import DEFAULT_THREADS, build_worker, start_sweeper, sweep_once

log = logging.getLogger("conversations.worker")


class Command(BaseCommand):
    help = "Run the background worker: send queued replies and recover stalled ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between polls when no reply is due."
        )
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=None,
            help="Seconds between recovery sweeps (default: WORKER_SWEEP_INTERVAL).",
        )
        parser.add_argument("--worker-id", default="", help="Unique id of this worker (default: random).")
        parser.add_argument("--batch", action="store_true", help="Run what is due now, then exit.")
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after this many send attempts.")
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=f"Hub calls in flight at once (default {DEFAULT_THREADS}): the call is I/O, the database work stays on one thread.",
        )

    def handle(
        self,
        *args,
        interval: float,
        sweep_interval: float | None,
        worker_id: str,
        batch: bool,
        max_tasks: int | None,
        threads: int,
        **options,
    ):
        worker = build_worker(
            interval=interval,
            worker_id=worker_id,
            batch=batch,
            max_tasks=max_tasks,
            threads=threads,
        )
        worker_id = worker.worker_id
        if str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).endswith("InMemoryChannelLayer"):
            log.warning(
                "the channel layer is in-memory: this worker's live updates cannot reach browsers served by "
                "another process; set REDIS_URL, or let daphne run the worker (RUN_WORKER_IN_PROCESS)"
            )
        # One long-lived loop for this process's realtime events (see conversations/events.py).
        publisher.start_background_loop()
        # Signals first, so that a stop sent as soon as "started" is printed is handled as a stop.
        worker.configure_signals()
        # Replies left pending by a previous run (a crash, a restart with replies leased) go first.
        recovered = sweep_once()
        self.stdout.write(f"Worker {worker_id} started; {recovered} stalled repl(ies) due again.")
        stop = threading.Event()
        background = start_sweeper(stop, sweep_interval)
        try:
            worker.run()
        finally:
            # Our handler stays in place to the end (the process exits right after): a signal that
            # follows the first one at once (Ctrl-C, then the launcher's SIGTERM) is the same stop and
            # must not kill the process half-way through winding down.
            stop.set()
            for thread in background:
                thread.join(timeout=10)
            publisher.close()
            self.stdout.write(f"Worker {worker_id} stopped.")
