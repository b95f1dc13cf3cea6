"""How the integrations app joins the lower apps' work (channels_app/hooks.py), connected in `ready()`."""

from __future__ import annotations

from typing import Any

from channels_app import hooks
from channels_app.models import Application


def _health_alerts(
    sender: Any = None, *, applications: list[Application], **kwargs: Any
) -> list[hooks.HealthAlert]:
    from integrations.selectors import disabled_subscription_alerts

    return disabled_subscription_alerts(applications)


def connect() -> None:
    from integrations import worker
    from integrations.actions.deliveries import on_event_committed

    hooks.event_committed.connect(on_event_committed, dispatch_uid="integrations.outgoing_webhooks")
    hooks.worker_starting.connect(worker.start, dispatch_uid="integrations.outgoing_webhooks")
    hooks.health_alerts.connect(_health_alerts, dispatch_uid="integrations.outgoing_webhooks")
