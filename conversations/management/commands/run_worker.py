"""`manage.py run_worker`: the background worker that sends replies.

It runs django-tasks-db's own worker loop (the database is the queue; several workers may run at once,
each task is claimed with SELECT ... FOR UPDATE SKIP LOCKED), plus the recovery sweep for replies a dead
worker or a lost task left `pending` — at start, then every WORKER_SWEEP_INTERVAL seconds, in a thread —
and housekeeping (conversations/actions/housekeeping.py) in another.

SIGTERM/SIGINT: finish the task in hand, then exit (a second signal, more than 2 s later, exits at
once). SIGKILL loses nothing: the killed worker's reply keeps its lease until HUB_SEND_LEASE_SECONDS,
then the sweep of any worker queues it again.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from channels_app.realtime import publisher
from conversations.worker import build_worker, start_sweeper, sweep_once

log = logging.getLogger("conversations.worker")


class Command(BaseCommand):
    help = "Run the background worker: send queued replies and recover stalled ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue-name", default="default", help="Queues to process, comma separated ('*' = all)."
        )
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between polls when the queue is empty."
        )
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=None,
            help="Seconds between recovery sweeps (default: WORKER_SWEEP_INTERVAL).",
        )
        parser.add_argument("--worker-id", default="", help="Unique id of this worker (default: random).")
        parser.add_argument("--batch", action="store_true", help="Run what is due now, then exit.")
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after this many tasks.")

    def handle(
        self,
        *args,
        queue_name: str,
        interval: float,
        sweep_interval: float | None,
        worker_id: str,
        batch: bool,
        max_tasks: int | None,
        **options,
    ):
        worker = build_worker(
            queue_names=queue_name.split(","),
            interval=interval,
            worker_id=worker_id,
            batch=batch,
            max_tasks=max_tasks,
        )
        worker_id = worker.worker_id
        if settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer"):
            log.warning(
                "the channel layer is in-memory: this worker's live updates cannot reach browsers served by "
                "another process; set REDIS_URL, or let daphne run the worker (RUN_WORKER_IN_PROCESS)"
            )
        # One long-lived loop for this process's realtime events (see conversations/events.py).
        publisher.start_background_loop()
        # Replies left pending by a previous run (a crash, a restart with replies queued) go first.
        recovered = sweep_once()
        self.stdout.write(f"Worker {worker_id} started; {recovered} stalled repl(ies) re-queued.")
        stop = threading.Event()
        background = start_sweeper(stop, sweep_interval)
        worker.configure_signals()
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
