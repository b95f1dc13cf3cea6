"""The background worker: a loop that sends due replies, plus the sweep that recovers stalled ones.

The replies table is the queue (conversations/actions/replies.py): each turn takes the replies due first
that no other worker holds, with `SELECT … FOR UPDATE SKIP LOCKED`, so any number of workers share it
without a queue of their own. The Hub call is I/O (hundreds of milliseconds across the internet), so a
worker keeps up to `threads` calls going at once on sender threads, while its own thread does all the
database work: each turn stores the answers that came back and leases as many replies as threads are
free, in one transaction. When nothing is due the loop waits `interval` seconds.

Two ways to run it:
- `manage.py run_worker`: its own process (production, several of them if needed);
- in-process, in a daphne thread, when `RUN_WORKER_IN_PROCESS` is on (the `make run` default without
  Redis). The in-memory channel layer only reaches browsers connected to the same process, so a worker
  in another process could not move the ticks of a reply; inside daphne it publishes on daphne's loop.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import signal
import sys
import threading
import time
from types import FrameType

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, close_old_connections, connection
from django.utils.crypto import get_random_string

from channels_app.hooks import start_worker_threads
from channels_app.realtime import publisher
from conversations.actions.housekeeping import do_prune_history
from conversations.actions.replies import (
    SendLease,
    SendOutcome,
    do_recover_expired_leases,
    do_send_step,
    send_to_hub,
)
from conversations.actions.rollup import do_roll_up_message_volume
from conversations.actions.snooze import do_wake_due_snoozes

log = logging.getLogger("conversations.worker")


def sweep_once() -> int:
    try:
        return do_recover_expired_leases()
    except Exception:  # a failed sweep (database briefly away) must not stop the worker; next one retries
        log.exception("recovery sweep failed")
        return 0
    finally:
        close_old_connections()


def wake_once() -> int:
    """Reopen the snoozed conversations that are due; how many were woken."""
    try:
        return len(do_wake_due_snoozes())
    except Exception:  # like the sweep: logged, and tried again at the next one
        log.exception("waking snoozed conversations failed")
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
    """The recovery sweep every `interval` s, and the snooze wake-up every SNOOZE_WAKE_INTERVAL s."""
    wake_every = settings.SNOOZE_WAKE_INTERVAL
    # The first wake-up at once: what came due while no worker ran comes back now.
    next_wake, next_sweep = time.monotonic(), time.monotonic() + interval
    try:
        while not stop.wait(max(0.0, min(next_sweep, next_wake) - time.monotonic())):
            now = time.monotonic()
            if now >= next_wake:
                wake_once()
                next_wake = now + wake_every
            if now >= next_sweep:
                sweep_once()
                next_sweep = now + interval
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


def roll_up_forever(stop: threading.Event) -> None:
    """The reports' message counts (conversations/actions/rollup.py) every REPORT_ROLLUP_INTERVAL s,
    in their own thread: the first pass of a big history backfills for a while."""
    try:
        while True:
            try:
                do_roll_up_message_volume()
            except Exception:  # like the sweep: logged, and tried again next time
                log.exception("report rollup failed")
            finally:
                close_old_connections()
            if stop.wait(settings.REPORT_ROLLUP_INTERVAL):
                return
    finally:
        connection.close()


DEFAULT_THREADS = 8


class _Senders:
    """Threads that make the Hub calls: each takes a lease, calls the Hub, hands the outcome back. They
    never touch the database. Daemons, so an immediate exit (a second signal) is not held up by a call
    waiting for its timeout: that reply keeps its lease, and the sweep sends it again."""

    def __init__(self, count: int, name: str) -> None:
        self.todo: queue.SimpleQueue[SendLease | None] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[SendOutcome] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._run, name=f"{name}-send-{n}", daemon=True) for n in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        while (lease := self.todo.get()) is not None:
            self.done.put(send_to_hub(lease))  # never raises: every failure is an outcome

    def submit(self, lease: SendLease) -> None:
        self.todo.put(lease)

    def collect(self, in_flight: int, linger: float, wait: float | None = None) -> list[SendOutcome]:
        """Wait for one call to come back (up to `wait` seconds; None: as long as it takes), then up to
        `linger` seconds for the others in flight, so that their answers are stored together: calls
        leased together mostly come back together, and each turn costs about the same whether it stores
        one answer or eight. Nothing came back within `wait`: []."""
        try:
            outcomes = [self.done.get(timeout=wait)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + linger
        while len(outcomes) < in_flight:
            try:
                outcomes.append(self.done.get(timeout=max(deadline - time.monotonic(), 0)))
            except queue.Empty:
                break
        return outcomes

    def close(self) -> None:
        for _ in self.threads:
            self.todo.put(None)


class _Wakeup:
    """An Event that a signal handler may set. The handler runs on the main thread, possibly while that
    thread is inside `wait()` holding the lock: threading.Event's lock is not re-entrant, and setting
    it from there deadlocked the worker (an idle worker then never stopped on SIGTERM)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._flag = False

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        with self._cond:
            if not self._flag:
                self._cond.wait(timeout)
            return self._flag


class ReplyWorker:
    """Sends due replies until stopped, up to `threads` at a time.

    A stop (SIGTERM/SIGINT, or `stop()`) only clears `running`: the worker takes no new reply, stores
    the answers to the calls in hand, and ends (at once when idle), never in the middle of a database
    call. A second signal, given more than two seconds after the first, exits at once.
    """

    # A second signal this soon after the first is the same stop, not a request to hurry: Ctrl-C reaches
    # the whole process group and `make run` then forwards its own SIGTERM.
    SAME_STOP_SECONDS = 2.0
    # How long the answers that came back wait for the rest of their batch (_Senders.collect): a tenth of
    # a Hub call across the internet; on the bench's local sandbox, it halved the database's CPU per reply.
    LINGER = 0.02

    def __init__(
        self,
        *,
        interval: float = 0.5,
        worker_id: str = "",
        batch: bool = False,
        max_tasks: int | None = None,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        self.interval = interval
        self.worker_id = worker_id or f"hubdash-{get_random_string(12)}"
        self.batch = batch
        self.max_tasks = max_tasks
        self.threads = max(1, threads)
        self.running = True
        self.done = 0
        self._idle = _Wakeup()  # set by stop(): an idle wait ends at once
        self._first_signal_at: float | None = None

    def _room(self, in_flight: int) -> int:
        """How many replies to lease now: a free thread each, within --max-tasks, none once stopped."""
        if not self.running:
            return 0
        room = self.threads - in_flight
        if self.max_tasks is not None:
            room = min(room, self.max_tasks - self.done - in_flight)
        return max(room, 0)

    def run(self) -> None:
        log.info("worker %s sending replies on %d threads", self.worker_id, self.threads)
        senders = _Senders(self.threads, self.worker_id)
        in_flight = 0
        finished: list[SendOutcome] = []
        try:
            while True:
                want = self._room(in_flight)
                if finished or want:
                    try:
                        step = do_send_step(finished=finished, want=want)
                    except DatabaseError as exc:
                        log.exception("worker %s could not store answers or take replies", self.worker_id)
                        close_old_connections()
                        if finished and isinstance(exc, IntegrityError | DataError):
                            # The database refuses one of these answers (the data, not the database
                            # being away): store them one by one, so one never holds up the others.
                            self.done += self._store_one_by_one(finished)
                            finished = []
                            continue
                        # The database briefly away: the answers in hand are stored next turn (their
                        # replies keep their leases meanwhile), due replies stay due.
                        if finished and not self.running:
                            log.error(
                                "worker %s stops with %d answers unstored", self.worker_id, len(finished)
                            )
                            return  # their leases expire and the sweep sends them again: never lost
                        self._idle.wait(self.interval)
                        continue
                    self.done += len(step.outcomes)
                    finished = []
                    for lease in step.leases:
                        senders.submit(lease)
                    in_flight += len(step.leases)
                    if step.outcomes and not step.leases and not in_flight:
                        continue  # replies failed at lease (channel gone): others may be due
                if in_flight:
                    # While threads are free, wait for answers no longer than the idle poll: one slow
                    # Hub call (up to its read timeout) must not hold up the replies that fall due
                    # meanwhile. With every thread busy, or stopping, wait for an answer.
                    wait = self.interval if self._room(in_flight) else None
                    finished = senders.collect(in_flight, self.LINGER, wait)
                    in_flight -= len(finished)
                    continue
                if not self.running or self.batch or self._room(0) == 0:
                    return  # stopped, --batch with nothing left due, or --max-tasks reached
                close_old_connections()  # idle: give the connection back to the pool meanwhile
                self._idle.wait(self.interval)
        finally:
            senders.close()

    def _store_one_by_one(self, finished: list[SendOutcome]) -> int:
        """Store each answer in a transaction of its own; one the database still refuses is left to the
        sweep (its lease expires, the attempt is recorded lost, the reply is sent again). Returns how
        many were stored."""
        stored = 0
        for outcome in finished:
            try:
                do_send_step(finished=[outcome])
                stored += 1
            except DatabaseError:
                log.exception(
                    "worker %s left reply %s to the sweep", self.worker_id, outcome.lease.message_id
                )
                close_old_connections()
        return stored

    def stop(self) -> None:
        self.running = False
        self._idle.set()

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._first_signal_at is None:
            self._first_signal_at = now
            log.warning("received %s: stopping after the replies in hand", signal.strsignal(signum))
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
    *,
    interval: float = 0.5,
    worker_id: str = "",
    batch: bool = False,
    max_tasks: int | None = None,
    threads: int = DEFAULT_THREADS,
) -> ReplyWorker:
    return ReplyWorker(
        interval=interval, worker_id=worker_id, batch=batch, max_tasks=max_tasks, threads=threads
    )


def start_sweeper(stop: threading.Event, interval: float | None = None) -> list[threading.Thread]:
    """The recovery sweep, housekeeping and the reports' rollup, each in a daemon thread, until `stop`
    is set."""
    threads = [
        threading.Thread(
            target=sweep_forever,
            args=(stop, interval or settings.WORKER_SWEEP_INTERVAL),
            name="reply-sweeper",
            daemon=True,
        ),
        threading.Thread(target=housekeep_forever, args=(stop,), name="housekeeping", daemon=True),
        threading.Thread(target=roll_up_forever, args=(stop,), name="report-rollup", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads + start_worker_threads(stop)  # other apps' loops, e.g. outgoing webhooks (hooks.py)


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
