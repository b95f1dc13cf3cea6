"""The settings' health panel: what an admin needs when "messages stopped arriving".

It reads conversations' tables (messages, send attempts, webhook events) next to channels_app's, so it
lives here, above both: channels_app never imports conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from channels_app.models import Application, Channel, HubWebhook
from conversations.models import Message, SendAttempt, WebhookEvent

# A reply due for longer than this means no worker is running.
QUEUE_STALLED_AFTER = timedelta(minutes=1)


@dataclass
class ChannelHealth:
    channel: Channel
    last_inbound_at: datetime | None


@dataclass
class ApplicationHealth:
    application: Application
    webhooks: list[HubWebhook]
    last_event_at: datetime | None
    rejected_last_day: int


@dataclass
class HealthReport:
    queue_due: int
    queue_scheduled: int
    queue_running: int
    queue_oldest_due_at: datetime | None
    pending_replies: int
    oldest_pending_reply_at: datetime | None
    channels: list[ChannelHealth]
    applications: list[ApplicationHealth]
    last_send_error: SendAttempt | None
    checked_at: datetime

    @property
    def queue_stalled(self) -> bool:
        """A due reply has waited longer than a worker ever lets one wait: none is probably running."""
        oldest = self.queue_oldest_due_at
        return oldest is not None and self.checked_at - oldest > QUEUE_STALLED_AFTER


def health(applications: list[Application]) -> HealthReport:
    """What an admin needs when "messages stopped arriving", for these Applications.

    The send queue is the replies table itself (conversations/actions/replies.py): due replies wait for a
    worker, scheduled ones for their retry time, leased ones are being sent.
    """
    now = timezone.now()
    app_ids = [a.pk for a in applications]
    replies = Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.PENDING,
        channel__application_id__in=app_ids,
    )
    due = Q(locked_until__isnull=True) & (Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
    queue = replies.aggregate(
        due=Count("id", filter=due),
        scheduled=Count("id", filter=Q(locked_until__isnull=True, next_attempt_at__gt=now)),
        running=Count("id", filter=Q(locked_until__isnull=False)),
        oldest_due=Min(Coalesce("next_attempt_at", "created_at"), filter=due),
    )

    pending = Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.PENDING,
        channel__application_id__in=app_ids,
    ).aggregate(count=Count("id"), oldest=Min("created_at"))

    channels = list(
        Channel.objects.filter(application_id__in=app_ids)
        .select_related("application")
        .order_by("application__name", "-active", "kind", "display_name")
    )
    # One grouped query for every channel's latest inbound message.
    last_inbound = dict(
        Message.objects.filter(direction=Message.Direction.INBOUND, channel_id__in=[c.pk for c in channels])
        .values_list("channel_id")
        .annotate(last=Max("created_at"))
        .order_by()
    )

    since = now - timedelta(days=1)
    events = {
        row["application_id"]: row
        for row in WebhookEvent.objects.filter(application_id__in=app_ids)
        .values("application_id")
        .annotate(
            last=Max("received_at"),
            rejected=Count("id", filter=Q(outcome=WebhookEvent.Outcome.REJECTED, received_at__gte=since)),
        )
        .order_by()
    }
    webhooks: dict[int, list[HubWebhook]] = {}
    for hook in HubWebhook.objects.filter(application_id__in=app_ids).order_by("event_type"):
        webhooks.setdefault(hook.application_id, []).append(hook)

    last_send_error = (
        SendAttempt.objects.filter(
            message__channel__application_id__in=app_ids,
            outcome__in=[
                SendAttempt.Outcome.PERMANENT_ERROR,
                SendAttempt.Outcome.TRANSIENT_ERROR,
                SendAttempt.Outcome.REJECTED,
            ],
        )
        .exclude(error_message="")
        .select_related("message__channel__application")
        .order_by("-started_at", "-id")
        .first()
    )
    return HealthReport(
        queue_due=queue["due"],
        queue_scheduled=queue["scheduled"],
        queue_running=queue["running"],
        queue_oldest_due_at=queue["oldest_due"],
        pending_replies=pending["count"],
        oldest_pending_reply_at=pending["oldest"],
        channels=[ChannelHealth(c, last_inbound.get(c.pk)) for c in channels],
        applications=[
            ApplicationHealth(
                application=a,
                webhooks=webhooks.get(a.pk, []),
                last_event_at=events.get(a.pk, {}).get("last"),
                rejected_last_day=events.get(a.pk, {}).get("rejected", 0),
            )
            for a in applications
        ],
        last_send_error=last_send_error,
        checked_at=now,
    )
