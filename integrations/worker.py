"""The outgoing webhook sender: a thread of every worker process (`manage.py run_worker`, or daphne's
in-process worker), started through channels_app/hooks.py `worker_starting`.

It POSTs due deliveries one after another (the deliveries table is the queue: integrations/actions/
deliveries.py), waits OUTGOING_WEBHOOK_POLL_INTERVAL when none is due, and every WORKER_SWEEP_INTERVAL
makes due again what a dead worker held. A slow receiver holds up only this thread, never the replies.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from integrations.actions.deliveries import do_deliver_next_due, do_recover_expired_deliveries

log = logging.getLogger("integrations.worker")


def deliver_until(stop: threading.Event) -> None:
    last_sweep = 0.0
    try:
        while not stop.is_set():
            close_old_connections()
            outcome = None
            try:
                if time.monotonic() - last_sweep >= float(settings.WORKER_SWEEP_INTERVAL):
                    last_sweep = time.monotonic()
                    if recovered := do_recover_expired_deliveries():
                        log.info(
                            "made %s outgoing webhook deliveries of a stopped worker due again", recovered
                        )
                outcome = do_deliver_next_due()
            except Exception:  # the database briefly away: logged, and tried again after a pause
                log.exception("outgoing webhook step failed")
            if outcome is None:
                stop.wait(float(settings.OUTGOING_WEBHOOK_POLL_INTERVAL))
    finally:
        connection.close()  # this thread's own connection


def start(sender: Any = None, *, stop: threading.Event, **kwargs: Any) -> list[threading.Thread]:
    """The `worker_starting` receiver: one sender thread, ended by `stop`."""
    thread = threading.Thread(target=deliver_until, args=(stop,), name="outgoing-webhooks", daemon=True)
    thread.start()
    return [thread]
