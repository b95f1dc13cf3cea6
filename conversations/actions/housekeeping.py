"""Housekeeping: delete history that has served its purpose, so tables stop growing with traffic.

Run by every worker in a thread of its own once an hour (`PRUNE_INTERVAL`; workers start at staggered
times) and by `manage.py prune_history`. Deleting is idempotent, so several workers pruning at once is
harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Model, QuerySet
from django.utils import timezone

from conversations.actions.uploads import do_prune_orphan_uploads
from conversations.models import MessageStatusChange, WebhookEvent

# Received deliveries that need nothing more from anyone. Kept whatever their age: `invalid` and `failed`
# ones until an admin reprocesses them (they then become `processed` and age out like the rest), and
# `ignored` ones, which may be a customer's message for a channel not registered yet (the Hub will not
# send it again: reprocessing after registering the channel is the only way to get it).
PRUNABLE_OUTCOMES = (
    WebhookEvent.Outcome.PROCESSED,
    WebhookEvent.Outcome.DUPLICATE,
    WebhookEvent.Outcome.REJECTED,
)


@dataclass(frozen=True)
class PruneReport:
    webhook_events: int = 0
    orphan_statuses: int = 0
    orphan_uploads: int = 0


def do_prune_history(*, now: datetime | None = None, batch_size: int = 2000) -> PruneReport:
    """Delete, in batches (short transactions, no long lock on a busy table):

    - webhook deliveries older than WEBHOOK_EVENT_RETENTION_DAYS whose outcome needs no action. A Hub
      re-delivery of a pruned `Message` still stores nothing twice: the message's own unique key holds;
    - statuses that never found their message (for messages sent outside Hubdash) after as long;
    - uploads no reply took within UPLOAD_ORPHAN_HOURS (actions/uploads.py), file and row.

    A retention of 0 days keeps that history for ever.
    """
    now = now or timezone.now()
    events = statuses = 0
    if settings.WEBHOOK_EVENT_RETENTION_DAYS > 0:
        before = now - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS)
        # Each Application's newest delivery stays: the health panel's "last event received" must not
        # turn into "never" for an Application that has been quiet longer than the retention.
        # Read once per run, not per batch: it scans the table.
        newest = list(
            WebhookEvent.objects.values("application")
            .annotate(newest=Max("id"))
            .values_list("newest", flat=True)
        )
        events = _delete_in_batches(
            WebhookEvent.objects.filter(outcome__in=PRUNABLE_OUTCOMES, received_at__lt=before).exclude(
                id__in=newest
            ),
            batch_size,
        )
        statuses = _delete_in_batches(
            MessageStatusChange.objects.filter(message__isnull=True, received_at__lt=before), batch_size
        )
    uploads = do_prune_orphan_uploads(now=now)
    return PruneReport(webhook_events=events, orphan_statuses=statuses, orphan_uploads=uploads)


def _delete_in_batches(rows: QuerySet[Model], batch_size: int) -> int:
    deleted = 0
    while True:
        ids = list(rows.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        # Nothing references these rows, so this is one plain DELETE … WHERE id IN (…) per batch; the
        # filter again, in case a row changed since it was selected (e.g. reprocessed meanwhile).
        deleted += rows.filter(pk__in=ids).delete()[0]
        if len(ids) < batch_size:
            return deleted
