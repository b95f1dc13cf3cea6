"""The background worker: a loop that sends due replies, plus the sweep that recovers stalled ones.

The replies table is the queue (conversations/actions/replies.py): each step takes the reply due first
that no other worker holds, with `SELECT … FOR UPDATE SKIP LOCKED`, so any number of workers share it
without a queue of their own. When nothing is due the loop waits `interval` seconds.

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
from django.db import DatabaseError, close_old_connections, connection
from django.utils.crypto import get_random_string

from channels_app.realtime import publisher
from conversations.actions.housekeeping import do_prune_history
from conversations.actions.replies import do_recover_expired_leases, do_send_next_due

log = logging.getLogger("conversations.worker")


def sweep_once() -> int:
    try:
        return do_recover_expired_leases()
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


class ReplyWorker:
    """Sends due replies until stopped, one at a time.

    A stop (SIGTERM/SIGINT, or `stop()`) only clears `running`: the loop ends after the reply in hand or
    at once when idle, never in the middle of a database call. A second signal, given more than two
    seconds after the first, exits at once.
    """

    # A second signal this soon after the first is the same stop, not a request to hurry: Ctrl-C reaches
    # the whole process group and `make run` then forwards its own SIGTERM.
    SAME_STOP_SECONDS = 2.0

    def __init__(
        self, *, interval: float = 0.5, worker_id: str = "", batch: bool = False, max_tasks: int | None = None
    ) -> None:
        self.interval = interval
        self.worker_id = worker_id or f"hubdash-{get_random_string(12)}"
        self.batch = batch
        self.max_tasks = max_tasks
        self.running = True
        self.done = 0
        self._idle = threading.Event()  # set by stop(): an idle wait ends at once
        self._first_signal_at: float | None = None

    def run(self) -> None:
        log.info("worker %s sending replies", self.worker_id)
        while self.running:
            close_old_connections()
            try:
                outcome = do_send_next_due()
            except DatabaseError:  # the database briefly away: the reply stays due, try again soon
                log.exception("worker %s could not take a reply", self.worker_id)
                outcome = None
            if outcome is None:
                if self.batch:
                    return
                self._idle.wait(self.interval)
                continue
            self.done += 1
            if self.max_tasks is not None and self.done >= self.max_tasks:
                return

    def stop(self) -> None:
        self.running = False
        self._idle.set()

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._first_signal_at is None:
            self._first_signal_at = now
            log.warning("received %s: stopping after the reply in hand", signal.strsignal(signum))
            self.stop()
            return
        if now - self._first_signal_at < self.SAME_STOP_SECONDS:
            return
        log.warning("received %s again: exiting now", signal.strsignal(signum))
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.exit(1)

    def configure_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.shutdown)
        signal.signal(signal.SIGINT, self.shutdown)


def build_worker(
    *, interval: float = 0.5, worker_id: str = "", batch: bool = False, max_tasks: int | None = None
) -> ReplyWorker:
    return ReplyWorker(interval=interval, worker_id=worker_id, batch=batch, max_tasks=max_tasks)


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
        _in_process = worker = build_worker(worker_id=f"in-process-{get_random_string(8)}")

    def run() -> None:
        log.info("in-process worker started; %d repl(ies) of a stopped worker due again", sweep_once())
        try:
            worker.run()
        finally:
            connection.close()

    threading.Thread(target=run, name="in-process-worker", daemon=True).start()
    start_sweeper(threading.Event())
