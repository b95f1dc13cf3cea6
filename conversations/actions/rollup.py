"""The reports' message counts per quarter hour (MessageVolume), kept by the worker.

Every pass recounts, from the messages, the quarter hours from an hour before the mark up to two
minutes ago, and moves the mark. A message's `created_at` is set before its transaction commits, so a
message may become visible after a pass counted its quarter: recounting the last hour each time
(`OVERLAP`) counts it at the next pass, and nothing is rolled before it is two minutes old (`SETTLE`).
The first pass backfills from the oldest message, `MAX_SPAN` per pass. Each quarter's rows are deleted
and written again in the transaction that holds the mark's lock, so workers running it at once take
turns instead of counting twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from conversations.models import Message, MessageVolume, RollupMark

QUARTER = timedelta(minutes=15)
OVERLAP = timedelta(hours=1)
SETTLE = timedelta(minutes=2)
MAX_SPAN = timedelta(days=31)
CHUNK = timedelta(days=1)
MARK = "message_volume"
# Customer messages and replies: a team's notes and the activity lines are not messages anyone sent.
COUNTED = (Message.Direction.INBOUND, Message.Direction.OUTBOUND)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_quarter(moment: datetime) -> datetime:
    return _EPOCH + ((moment - _EPOCH) // QUARTER) * QUARTER


def rolled_until() -> datetime | None:
    """Up to when MessageVolume counts every message (None: nothing rolled up yet)."""
    return RollupMark.objects.filter(name=MARK).values_list("rolled_until", flat=True).first()


def do_roll_up_message_volume(*, now: datetime | None = None) -> datetime | None:
    """One pass (see the module's docstring); returns the new mark (None: no message at all yet)."""
    end = floor_quarter((now or timezone.now()) - SETTLE)
    mark = rolled_until()
    if mark is None:
        first = Message.objects.aggregate(first=Min("created_at"))["first"]
        if first is None:
            return None
        start = floor_quarter(first)
    else:
        start = floor_quarter(mark - OVERLAP)
    end = min(end, start + MAX_SPAN)
    while start < end:
        stop = min(start + CHUNK, end)
        _recount(start, stop)
        start = stop
    return rolled_until()


def _recount(start: datetime, end: datetime) -> None:
    with transaction.atomic():
        mark, _ = RollupMark.objects.select_for_update().get_or_create(
            name=MARK, defaults={"rolled_until": start}
        )
        counts: Counter[tuple[int, datetime, str, int]] = Counter()
        rows = Message.objects.filter(
            created_at__gte=start, created_at__lt=end, direction__in=COUNTED
        ).values_list("channel_id", "created_at", "direction", "author_id")
        for channel_id, created_at, direction, author_id in rows.iterator(chunk_size=5000):
            counts[(channel_id, floor_quarter(created_at), direction, author_id or 0)] += 1
        MessageVolume.objects.filter(bucket__gte=start, bucket__lt=end).delete()
        MessageVolume.objects.bulk_create(
            [
                MessageVolume(
                    channel_id=channel_id, bucket=bucket, direction=direction, author_id=author, count=n
                )
                for (channel_id, bucket, direction, author), n in counts.items()
            ],
            batch_size=2000,
        )
        if end > mark.rolled_until:
            mark.rolled_until = end
            mark.save(update_fields=["rolled_until"])
