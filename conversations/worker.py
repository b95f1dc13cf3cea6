"""The background worker: django-tasks-db's worker loop plus the sweep that recovers stalled replies.

Two ways to run it:
- `manage.py run_worker`: its own process (production, several of them if needed);
- in-process, in a daphne thread, when `RUN_WORKER_IN_PROCESS` is on (the `make run` default without
  Redis). The in-memory channel layer only reaches browsers connected to the same process, so a worker
  in another process could not move the ticks of a reply; inside daphne it publishes on daphne's loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import sys
import threading
import time
from types import FrameType

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

from channels_app.realtime import publisher
from conversations.actions.housekeeping import do_prune_history
from conversations.actions.replies import do_requeue_stalled_replies

log = logging.getLogger("conversations.worker")


def sweep_once() -> int:
    try:
        return do_requeue_stalled_replies()
    except Exception:  # a failed sweep (database briefly away) must not stop the worker; next one retries
        log.exception("recovery sweep failed")
        return 0
    finally:
        close_old_connections()


def prune_once() -> None:
    try:
        report = do_prune_history()
        if any(vars(report).values()):
            log.info("housekeeping: %s", report)
    except Exception:  # like the sweep: logged, and tried again next time
        log.exception("housekeeping failed")
    finally:
        close_old_connections()


def sweep_forever(stop: threading.Event, interval: float) -> None:
    try:
        while not stop.wait(interval):
            sweep_once()
    finally:
        connection.close()  # this thread's own connection


def housekeep_forever(stop: threading.Event) -> None:
    """Housekeeping every PRUNE_INTERVAL s, in its own thread: a long first prune of a big backlog must
    not hold up the recovery sweep. The first run comes at a random moment in the first
    min(PRUNE_INTERVAL, 10 min), so a fleet restarted together does not prune all at once, and workers
    restarted often (deploys) still prune."""
    first = random.uniform(0.1, 1.0) * min(settings.PRUNE_INTERVAL, 600.0)
    try:
        if stop.wait(first):
            return
        prune_once()
        while not stop.wait(settings.PRUNE_INTERVAL):
            prune_once()
    finally:
        connection.close()


class ReplyWorker(Worker):
    """django-tasks-db's worker, with a stop that cannot break a database call.

    Its own handler calls `sys.exit()` from the signal handler when no task is running, which raises
    wherever the main thread happens to be — inside the transaction that claims the next task, it left
    psycopg's connection mid-transaction and the process exited 1 with a traceback. Here the first
    signal only clears `running`: the loop ends after the task in hand or within one poll interval.
    A second signal, given more than two seconds later, still exits at once.
    """

    # A second signal this soon after the first is the same stop, not a request to hurry: Ctrl-C reaches
    # the whole process group and `make run` then forwards its own SIGTERM.
    SAME_STOP_SECONDS = 2.0
    _first_signal_at: float | None = None

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._first_signal_at is None:
            self._first_signal_at = now
            log.warning("received %s: stopping after the task in hand", signal.strsignal(signum))
            self.running = False
            return
        if now - self._first_signal_at < self.SAME_STOP_SECONDS:
            return
        log.warning("received %s again: exiting now", signal.strsignal(signum))
        self.reset_signals()
        sys.exit(1)


def build_worker(
    *,
    queue_names: list[str] | None = None,
    interval: float = 0.5,
    worker_id: str = "",
    batch: bool = False,
    max_tasks: int | None = None,
) -> ReplyWorker:
    return ReplyWorker(
        queue_names=queue_names or ["default"],
        interval=interval,
        batch=batch,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id or f"hubdash-{get_random_string(12)}",
        excluded_queue_names=[],
    )


def start_sweeper(stop: threading.Event, interval: float | None = None) -> list[threading.Thread]:
    """The recovery sweep and housekeeping, each in a daemon thread, until `stop` is set."""
    threads = [
        threading.Thread(
            target=sweep_forever,
            args=(stop, interval or settings.WORKER_SWEEP_INTERVAL),
            name="reply-sweeper",
            daemon=True,
        ),
        threading.Thread(target=housekeep_forever, args=(stop,), name="housekeeping", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


_in_process_started = threading.Lock()
_in_process: ReplyWorker | None = None


def start_in_process(loop: asyncio.AbstractEventLoop) -> None:
    """Run the worker in daemon threads of this (daphne) process, publishing on `loop`. Idempotent."""
    global _in_process
    with _in_process_started:
        if _in_process is not None:
            return
        publisher.bind(loop)
        _in_process = build_worker(worker_id=f"in-process-{get_random_string(8)}")

    def run() -> None:
        log.info("in-process worker started; %d stalled repl(ies) re-queued", sweep_once())
        try:
            _in_process.run()  # type: ignore[union-attr]
        finally:
            connection.close()

    threading.Thread(target=run, name="in-process-worker", daemon=True).start()
    start_sweeper(threading.Event())
