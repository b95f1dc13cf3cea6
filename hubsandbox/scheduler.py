"""A tiny timer thread: runs tasks at a due time by handing them to the delivery pool."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

Task = Callable[[], None]


class Scheduler:
    def __init__(self, sink: Callable[[Task], None]) -> None:
        self._sink = sink  # where due tasks go (the worker pool): the timer thread itself never does I/O
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Task]] = []
        self._seq = itertools.count()  # tie-breaker so equal due times keep their scheduling order
        self._running = False
        self._thread: threading.Thread | None = None

    def schedule(self, delay_seconds: float, task: Task) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(delay_seconds, 0.0), next(self._seq), task))
            self._cond.notify()

    def pending(self) -> int:
        """Tasks waiting for their due time."""
        with self._cond:
            return len(self._heap)

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()

    def start(self) -> None:
        with self._cond:
            if self._running:
                return
            self._running = True
        self._thread = threading.Thread(target=self._run, name="hubsandbox-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        # Pending tasks stay in the heap: while the sandbox is "down" nothing is delivered, and what was
        # due fires as soon as it is started again (like a Hub catching up after an outage).
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _run(self) -> None:
        with self._cond:
            while self._running:
                if not self._heap:
                    self._cond.wait()
                    continue
                due = self._heap[0][0]
                now = time.monotonic()
                if due > now:
                    self._cond.wait(due - now)
                    continue
                _, _, task = heapq.heappop(self._heap)
                self._sink(task)
