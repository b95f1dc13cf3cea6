"""Reads shared by the settings views: each fetches only what the user may administer."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from channels_app.access import User, application_for, is_admin_of_any, visible_applications
from channels_app.hub import HubClient, HubError, WebhookLog
from channels_app.models import (
    Application,
    AuditEntry,
    Channel,
    HubDeliveryRetry,
    HubWebhook,
    Membership,
)

WEBHOOK_LOGS_PER_PAGE = 20
AUDIT_PER_PAGE = 50
QUEUE_STALLED_AFTER = timedelta(minutes=1)


def can_use_settings(user: User) -> bool:
    """Superusers and admins of at least one Application; agents never reach a settings page."""
    if not user.is_authenticated or not user.is_active:
        return False
    # Asked by the nav on every page: remembered on the user object for this request.
    cached = getattr(user, "_hubdash_can_use_settings", None)
    if cached is None:
        cached = bool(user.is_superuser or is_admin_of_any(user))
        user._hubdash_can_use_settings = cached
    return cached


def can_create_application(user: User) -> bool:
    # Choice: an admin of one Application may start another one (and becomes its admin), so a team
    # can connect a second Hub Application without a superuser. Agents cannot.
    return can_use_settings(user)


def administered_applications(user: User) -> QuerySet[Application]:
    return visible_applications(user, role=Membership.Role.ADMIN)


def settings_overview(user: User) -> QuerySet[Application]:
    """The Applications on the settings home, with what their cards show."""
    return (
        administered_applications(user)
        .annotate(
            channel_count=Count("channels", filter=Q(channels__active=True), distinct=True),
        )
        .prefetch_related("hub_webhooks")
    )


def admin_channel_for(user: User, channel_id: int) -> Channel:
    """The channel if the user administers its Application; else 404 (like `application_for`)."""
    try:
        return Channel.objects.select_related("application").get(
            pk=channel_id, application__in=administered_applications(user)
        )
    except (Channel.DoesNotExist, ValueError, TypeError):
        raise Http404("No such channel.") from None


def application_channels(application: Application) -> QuerySet[Channel]:
    return application.channels.order_by("-active", "kind", "display_name")


# --- Team ------------------------------------------------------------------------------------------


def team(user: User) -> QuerySet[AbstractBaseUser]:
    """Users with access to an Application `user` administers, each with those memberships only."""
    applications = administered_applications(user)
    memberships = Membership.objects.filter(application__in=applications).select_related("application")
    users = (
        get_user_model().objects.all()
        if user.is_superuser
        else get_user_model().objects.filter(memberships__application__in=applications).distinct()
    )
    return users.prefetch_related(
        Prefetch("memberships", queryset=memberships, to_attr="managed_memberships")
    )


def managed_user_for(user: User, user_id: int) -> AbstractBaseUser:
    """A member of the admin's team (see `team`), else 404."""
    try:
        return team(user).get(pk=user_id)
    except (get_user_model().DoesNotExist, ValueError, TypeError):
        raise Http404("No such user.") from None


# --- Audit -------------------------------------------------------------------------------------------


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None


def audit_entries(user: User, *, application_id: int | None = None, before: int | None = None) -> AuditPage:
    """Newest first, keyset-paginated by id. Superusers also see entries without an Application."""
    if user.is_superuser:
        entries = AuditEntry.objects.all()
    else:
        entries = AuditEntry.objects.filter(application__in=administered_applications(user))
    if application_id is not None:
        entries = entries.filter(application=application_for(user, application_id, admin=True))
    if before is not None:
        entries = entries.filter(id__lt=before)
    rows = list(entries.select_related("application").order_by("-id")[: AUDIT_PER_PAGE + 1])
    more = len(rows) > AUDIT_PER_PAGE
    rows = rows[:AUDIT_PER_PAGE]
    return AuditPage(entries=rows, next_before=rows[-1].pk if more else None)


# --- Webhook logs (read live from the Hub) ------------------------------------------------------------


@dataclass
class WebhookLogsPage:
    webhook: HubWebhook | None
    logs: list[WebhookLog] = field(default_factory=list)
    page: int = 1
    total: int = 0
    total_pages: int = 0
    error: HubError | None = None
    # Logs on this page the Hub was already asked to re-send (by hand or by the recovery).
    resent: set[str] = field(default_factory=set)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.total_pages


def webhook_logs(
    application: Application, *, event_type: str, status: str | None, page: int
) -> WebhookLogsPage:
    """One page of the Hub's delivery logs for our webhook of `event_type` (the Hub paginates by offset)."""
    webhook = application.hub_webhooks.filter(event_type=event_type).first()
    if webhook is None:
        return WebhookLogsPage(webhook=None)
    client = HubClient.for_application(application)
    try:
        result = client.list_webhook_logs(
            webhook.hub_id,
            status=status or None,
            offset=(page - 1) * WEBHOOK_LOGS_PER_PAGE,
            limit=WEBHOOK_LOGS_PER_PAGE,
        )
    except HubError as exc:
        return WebhookLogsPage(webhook=webhook, page=page, error=exc)
    return WebhookLogsPage(
        webhook=webhook,
        logs=result.items,
        page=page,
        total=result.total,
        total_pages=result.total_pages or math.ceil(result.total / WEBHOOK_LOGS_PER_PAGE),
        resent=resent_log_ids(application, webhook.hub_id, (entry.id for entry in result.items)),
    )


def resent_log_ids(application: Application, hub_webhook_id: str, log_ids: Iterable[str]) -> set[str]:
    """Which of these logs the Hub was asked to re-send and accepted (or is being asked right now)."""
    return set(
        HubDeliveryRetry.objects.filter(
            application=application, hub_webhook_id=hub_webhook_id, hub_log_id__in=list(log_ids)
        )
        .filter(Q(accepted=True) | Q(accepted__isnull=True))
        .values_list("hub_log_id", flat=True)
    )


# --- Health ------------------------------------------------------------------------------------------


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
    last_send_error: object | None  # conversations.SendAttempt
    checked_at: datetime

    @property
    def queue_stalled(self) -> bool:
        """A due task has waited longer than the worker ever should: it is probably not running."""
        oldest = self.queue_oldest_due_at
        return oldest is not None and self.checked_at - oldest > QUEUE_STALLED_AFTER


def health(applications: list[Application]) -> HealthReport:
    """What an admin needs when "messages stopped arriving", for these Applications.

    The task queue is shared by every Application, so its numbers are global (a count, nothing else).
    """
    # Imported here: conversations depends on channels_app, never the other way round at import time.
    from conversations.models import Message, SendAttempt, WebhookEvent

    now = timezone.now()
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    # django_tasks_db stores "no run_after" as its far-future date: those are due now (as in `.ready()`).
    due = Q(run_after=get_date_max()) | Q(run_after__lte=now)
    queue = ready.aggregate(
        due=Count("id", filter=due),
        scheduled=Count("id", filter=~due),
        oldest_due=Min("enqueued_at", filter=due),
    )
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()

    app_ids = [a.pk for a in applications]
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
        queue_running=running,
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
