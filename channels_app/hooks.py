"""Seams through which an app higher up (integrations/: outgoing webhooks) takes part in what the lower
apps do, without them importing it: imports point down, so these are Django signals the lower apps send
and the higher app connects to in its `ready()`.

- `event_committed`: an inbox event (conversations/events.py: `message.created`, `message.status`,
  `conversation.updated`) whose transaction has committed. Sent from the on-commit callback, so a
  receiver sees the committed rows; a receiver that raises is logged and never fails the write.
- `worker_starting`: a worker process (`manage.py run_worker`, or daphne's in-process worker) starts its
  background threads. A receiver returns the threads it started; each must end once `stop` is set.
- `health_alerts`: the settings' health panel asks for alerts about these Applications; a receiver
  returns a list of `HealthAlert`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import transaction
from django.dispatch import Signal

from channels_app.models import Application

log = logging.getLogger(__name__)

event_committed = Signal()
worker_starting = Signal()
health_alerts = Signal()


@dataclass(frozen=True)
class HealthAlert:
    """One line on the health panel: what is wrong, with a link to where to fix it."""

    application_id: int
    message: str
    link: str = ""
    link_text: str = ""


def send_event_on_commit(event: dict[str, Any]) -> None:
    """Tell `event_committed` receivers of `event` once the current transaction commits."""
    if not event_committed.receivers:
        return
    transaction.on_commit(lambda: _send_event(event), robust=True)


def _send_event(event: dict[str, Any]) -> None:
    for receiver, result in event_committed.send_robust(sender=None, event=event):
        if isinstance(result, Exception):
            log.error(
                "event_committed receiver %r failed on %s", receiver, event.get("type"), exc_info=result
            )


def start_worker_threads(stop: threading.Event) -> list[threading.Thread]:
    """The background threads other apps run in a worker process (each ends once `stop` is set)."""
    threads: list[threading.Thread] = []
    for _receiver, started in worker_starting.send(sender=None, stop=stop):
        threads.extend(cast("list[threading.Thread]", started or []))
    return threads


def collect_health_alerts(applications: Sequence[Application]) -> list[HealthAlert]:
    alerts: list[HealthAlert] = []
    for receiver, result in health_alerts.send_robust(sender=None, applications=list(applications)):
        if isinstance(result, Exception):
            log.error("health_alerts receiver %r failed", receiver, exc_info=result)
            continue
        alerts.extend(result or [])
    return alerts
