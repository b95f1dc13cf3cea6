"""Reads shared by the settings views: each fetches only what the user may administer."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from channels_app.access import AuthUser, User, application_for, is_admin_of_any, visible_applications
from channels_app.hub import HubClient, HubError, WebhookLog
from channels_app.hub.content import ContentError
from channels_app.models import (
    Application,
    AuditEntry,
    Channel,
    HubDeliveryRetry,
    HubWebhook,
    Membership,
    ServiceLevel,
    WhatsAppTemplate,
)

WEBHOOK_LOGS_PER_PAGE = 20
AUDIT_PER_PAGE = 50


# Where `can_use_settings` remembers its answer on the user object (a lazy request.user forwards it).
_SETTINGS_CACHE = "_hubdash_can_use_settings"


def can_use_settings(user: User) -> bool:
    """Superusers and admins of at least one Application; agents never reach a settings page."""
    if not user.is_authenticated or not user.is_active:
        return False
    # Asked by the nav on every page: remembered on the user object for this request.
    cached = getattr(user, _SETTINGS_CACHE, None)
    if cached is None:
        cached = bool(user.is_superuser or is_admin_of_any(user))
        setattr(user, _SETTINGS_CACHE, cached)
    return bool(cached)


# Channel id -> kind, remembered by each process: a channel's kind never changes once it is registered
# (actions/channels.py changes only its name and whether it is active), so the inbox's rows and the view
# tabs' counts name each row's channel kind without a query. A saved or deleted channel is forgotten
# (signals.py): a test database that rolled back may give the next channel the same id.
_CHANNEL_KINDS: dict[int, str] = {}


def channel_kinds(ids: Iterable[int]) -> dict[int, str]:
    """The kind of each of these channels (the ones that exist)."""
    wanted = set(ids)
    missing = wanted - _CHANNEL_KINDS.keys()
    if missing:
        _CHANNEL_KINDS.update(Channel.objects.filter(pk__in=missing).order_by().values_list("pk", "kind"))
    return {pk: _CHANNEL_KINDS[pk] for pk in wanted if pk in _CHANNEL_KINDS}


def forget_channel_kind(channel_id: int) -> None:
    _CHANNEL_KINDS.pop(channel_id, None)


def remember_settings_access(user: User, *, administers_any: bool) -> None:
    """`can_use_settings`' answer, from a caller that read the user's memberships with their roles anyway
    (the inbox's pages: visible_application_list), so the nav asks no query of its own."""
    setattr(user, _SETTINGS_CACHE, bool(user.is_superuser or administers_any))


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


def service_level_of(application: Application) -> ServiceLevel | None:
    return ServiceLevel.objects.filter(application=application).first()


def application_channels(application: Application) -> QuerySet[Channel]:
    return application.channels.order_by("-active", "kind", "display_name")


# --- Team ------------------------------------------------------------------------------------------


def team(user: User) -> QuerySet[AuthUser]:
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


def managed_user_for(user: User, user_id: int) -> AuthUser:
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


def library_template(
    channel: Channel, *, params: list[str], pk: str = "", hub_template_id: str = ""
) -> tuple[WhatsAppTemplate, dict[str, str]]:
    """A template of the channel's library, by our id (the composer's picker) or by the Hub's (the
    API), with its text rendered for the bubble from `params` exactly as they are sent (the caller
    trims them). Raises ContentError when the channel has no such template or `params` do not fill
    its variables exactly."""
    templates = channel.templates.all()
    if pk:
        template = templates.filter(pk=int(pk)).first() if pk.isdigit() and len(pk) < 19 else None
    else:
        template = templates.filter(hub_template_id=hub_template_id).first() if hub_template_id else None
    if template is None:
        raise ContentError(_("Choose one of this channel's templates."))
    template.text.check_params(params)
    return template, {
        "name": template.name,
        "language": template.language,
        "text": template.text.render(params),
    }
