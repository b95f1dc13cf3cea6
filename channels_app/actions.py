"""Writes for Applications, Channels and the Hub's webhooks."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from channels_app import audit
from channels_app.audit import Actor
from channels_app.hub import HubClient, HubError, RetryResult, SendResult, WebhookInfo, WebhookLog
from channels_app.hub.capabilities import recipient_error
from channels_app.models import (
    Application,
    Channel,
    HubDeliveryRetry,
    HubWebhook,
    Membership,
    SigningSecret,
)
from channels_app.selectors import resent_log_ids

log = logging.getLogger(__name__)

# Secrets kept active per Hub webhook: the newest and the one before it, so deliveries signed just
# before a rotation still verify while the Hub switches over.
ACTIVE_SECRETS_PER_WEBHOOK = 2


def webhook_url(application: Application) -> str:
    """The URL the Hub posts this Application's events to."""
    return settings.PUBLIC_BASE_URL + reverse("hub_webhook", args=[application.public_id])


def do_store_signing_secret(*, application: Application, hub_webhook_id: str, secret: str) -> SigningSecret:
    with transaction.atomic():
        stored = SigningSecret.objects.create(
            application=application, hub_webhook_id=hub_webhook_id, secret=secret
        )
        keep = list(
            SigningSecret.objects.filter(application=application, hub_webhook_id=hub_webhook_id, active=True)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[:ACTIVE_SECRETS_PER_WEBHOOK]
        )
        SigningSecret.objects.filter(
            application=application, hub_webhook_id=hub_webhook_id, active=True
        ).exclude(id__in=keep).update(active=False)
    return stored


def _record_webhook(application: Application, info: WebhookInfo) -> HubWebhook:
    hook, _ = HubWebhook.objects.update_or_create(
        application=application,
        event_type=info.event_type,
        defaults={
            "hub_id": info.id,
            "endpoint": info.endpoint,
            "active": info.active,
            "is_verified": info.is_verified,
            "verified_at": info.verified_at,
            "number_of_errors": info.number_of_errors,
            "synced_at": timezone.now(),
        },
    )
    return hook


def do_connect_webhooks(*, application: Application, actor: Actor = None) -> list[HubWebhook]:
    """Create or update the Hub's `Message` and `MessageStatus` webhooks, signatures required.

    Idempotent: a webhook we already registered is updated to point at our URL, one deleted at the Hub
    is created again. The signing secret the Hub returns is stored (encrypted) before anything else so
    that the first signed delivery already verifies. The outcome is audited (`actor`: who pressed
    "connect webhooks"; None for commands) and a Hub failure is kept for the health panel.
    """
    before = {hook.event_type: _webhook_audit_state(hook) for hook in application.hub_webhooks.all()}
    last_secret_id = (
        SigningSecret.objects.filter(application=application)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )
    with _hub_call(application):
        result = _connect_webhooks(application)
    rotated = set(
        SigningSecret.objects.filter(application=application, id__gt=last_secret_id).values_list(
            "hub_webhook_id", flat=True
        )
    )
    changes: dict[str, Any] = {}
    for hook in result:
        after = _webhook_audit_state(hook)
        if hook.hub_id in rotated:
            after["signing secret"] = audit.CHANGED  # the value itself is never recorded
        old = before.get(hook.event_type, {})
        changes.update(
            {f"{hook.event_type} {name}": change for name, change in audit.diff(old, after).items()}
        )
    # The Hub calls cannot be rolled back, so they run outside any transaction; the entry records what
    # the Hub now has, written with nothing else pending.
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="webhooks.connected",
            application=application,
            target_type="webhooks",
            target_id=str(application.pk),
            target_repr=f"webhooks of {application.name}",
            changes=changes,
        )
    return result


def _webhook_audit_state(hook: HubWebhook) -> dict[str, Any]:
    return audit.snapshot(hook, ["hub_id", "endpoint", "is_verified"])


def _connect_webhooks(application: Application) -> list[HubWebhook]:
    client = HubClient.for_application(application)
    endpoint = webhook_url(application)
    known = {hook.event_type: hook for hook in application.hub_webhooks.all()}
    at_hub: list[WebhookInfo] | None = None
    result: list[HubWebhook] = []
    for event_type in (HubWebhook.EventType.MESSAGE, HubWebhook.EventType.MESSAGE_STATUS):
        info: WebhookInfo | None = None
        hook = known.get(event_type)
        if hook is not None:
            try:
                info = client.get_webhook(hook.hub_id)
            except HubError as exc:
                if exc.status != 404:
                    raise
        else:
            # Our rows may be gone (a restored database) while the Hub still has the webhook: adopt it
            # rather than create a second one that would deliver every event twice.
            if at_hub is None:
                at_hub = client.list_webhooks(limit=50).items
            info = next((w for w in at_hub if w.event_type == event_type and w.endpoint == endpoint), None)
        if info is None:
            info = client.create_webhook(
                label=f"hubdash {event_type} ({application.name})"[:100],
                endpoint=endpoint,
                event_type=event_type,
                requires_signature=True,
            )
        else:
            fields: dict[str, Any] = {}
            # Setting the endpoint, even unchanged, re-runs the Hub's verification (hub-api.md §4.5): the
            # only documented way to retry a handshake that failed while we were unreachable.
            if info.endpoint != endpoint or not info.is_verified:
                fields["endpoint"] = endpoint
            # Turning signing on issues a new secret, so ask only when it is off.
            if not info.requires_signature:
                fields["requiresSignature"] = True
            if fields:
                info = client.update_webhook(info.id, **fields)
        secret = info.signing_secret
        has_secret = SigningSecret.objects.filter(
            application=application, hub_webhook_id=info.id, active=True
        ).exists()
        if not secret and not has_secret:
            secret = client.redefine_signature(info.id)
        if secret:
            do_store_signing_secret(application=application, hub_webhook_id=info.id, secret=secret)
        if not info.is_verified:
            # Verification runs at the Hub when the endpoint is set; read back the outcome.
            info = client.get_webhook(info.id)
        result.append(_record_webhook(application, info))
        log.info(
            "hub webhook %s for %s: %s verified=%s", event_type, application.pk, info.id, info.is_verified
        )
    return result


# --- Settings area (issue 6): every admin write, audited in the transaction that makes it ---------------


class SettingsError(Exception):
    """A settings change that was refused for a reason the admin must read (e.g. the last admin)."""


def _note_hub_result(application: Application, error: HubError | None) -> None:
    """Keep the outcome of a settings call to the Hub for the health panel (not audited: no change)."""
    now = timezone.now()
    if error is None:
        Application.objects.filter(pk=application.pk).update(hub_ok_at=now)
        application.hub_ok_at = now
    else:
        message = str(error)[:1000]
        Application.objects.filter(pk=application.pk).update(last_hub_error=message, last_hub_error_at=now)
        application.last_hub_error, application.last_hub_error_at = message, now


@contextmanager
def _hub_call(application: Application) -> Iterator[None]:
    """Note the outcome of the Hub calls in the block for the health panel; a HubError still propagates."""
    try:
        yield
    except HubError as exc:
        _note_hub_result(application, exc)
        raise
    _note_hub_result(application, None)


def check_api_key(*, api_key: str) -> None:
    """Raise HubError unless the Hub accepts `api_key`.

    The Hub documents no "whoami" call: listing one webhook is the cheapest authenticated request there
    is (it needs no channel id and changes nothing), and a wrong or revoked key gets a 401.
    """
    HubClient(api_key=api_key).list_webhooks(limit=1)


def do_check_connection(*, application: Application) -> HubError | None:
    """The "test connection" action: None when the Hub accepts the stored key, else the Hub's error."""
    try:
        check_api_key(api_key=application.hub_api_key)
    except HubError as exc:
        _note_hub_result(application, exc)
        log.info("hub connection check for application %s failed: %s", application.pk, exc)
        return exc
    _note_hub_result(application, None)
    return None


def do_create_application(*, actor: AbstractBaseUser, name: str, api_key: str) -> Application:
    """A new Application whose key the Hub accepted; its creator becomes its admin.

    Raises HubError (before writing anything) when the Hub refuses the key or cannot be reached.
    """
    check_api_key(api_key=api_key)
    with transaction.atomic():
        application = Application(name=name, hub_ok_at=timezone.now())
        application.set_api_key(api_key)
        application.save()
        Membership.objects.create(user=actor, application=application, role=Membership.Role.ADMIN)
        audit.record(
            actor=actor,
            action="application.created",
            application=application,
            target=application,
            changes=audit.diff({}, {"name": name, "hub_api_key": audit.masked(api_key)}),
        )
    return application


def do_update_application(*, actor: AbstractBaseUser, application: Application, name: str) -> Application:
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        changes = audit.diff({"name": locked.name}, {"name": name})
        if changes:
            locked.name = name
            locked.save(update_fields=["name", "updated_at"])
            audit.record(
                actor=actor, action="application.updated", application=locked, target=locked, changes=changes
            )
    return locked


def do_replace_api_key(*, actor: AbstractBaseUser, application: Application, api_key: str) -> Application:
    """Swap the Hub API key for one the Hub accepts (raises HubError first otherwise)."""
    check_api_key(api_key=api_key)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        old = locked.masked_api_key
        locked.set_api_key(api_key)
        locked.hub_ok_at = timezone.now()
        locked.save(update_fields=["hub_api_key", "hub_api_key_last4", "hub_ok_at", "updated_at"])
        audit.record(
            actor=actor,
            action="application.key_replaced",
            application=locked,
            target=locked,
            # Two keys with the same last four characters still read as a change.
            changes={"hub_api_key": {"from": old, "to": audit.masked(api_key) or "••••"}},
        )
    return locked


def do_set_accept_unsigned(*, actor: AbstractBaseUser, application: Application, accept: bool) -> Application:
    """Turn "accept unsigned events" on (a Hub account that cannot sign) or off, audited.

    Off is the default: an event is taken only with a signature one of our active secrets verifies.
    The webhook reads the switch afresh before it takes an unsigned event, so turning it off holds at
    once in every process (see conversations/actions/inbound.py).
    """
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        changes = audit.diff(
            {"accept_unsigned_events": locked.accept_unsigned_events}, {"accept_unsigned_events": accept}
        )
        if changes:
            locked.accept_unsigned_events = accept
            locked.save(update_fields=["accept_unsigned_events", "updated_at"])
            audit.record(
                actor=actor,
                action="webhooks.unsigned_accepted" if accept else "webhooks.unsigned_refused",
                application=locked,
                target=locked,
                changes=changes,
            )
    return locked


_CHANNEL_FIELDS = ["hub_channel_id", "kind", "display_name", "active"]


def do_register_channel(
    *,
    actor: AbstractBaseUser,
    application: Application,
    hub_channel_id: uuid.UUID,
    kind: str,
    display_name: str,
) -> Channel:
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                application=application, hub_channel_id=hub_channel_id, kind=kind, display_name=display_name
            )
            audit.record(
                actor=actor,
                action="channel.registered",
                application=application,
                target=channel,
                changes=audit.diff({}, audit.snapshot(channel, _CHANNEL_FIELDS)),
            )
    except IntegrityError:  # the form checked, but two admins may register the same UUID at once
        # Worded as the form's refusal (forms.CHANNEL_UNUSABLE): it must not confirm another tenant has it.
        raise SettingsError(gettext("This channel cannot be registered here.")) from None
    return channel


def _update_channel(actor: AbstractBaseUser, channel: Channel, action: str, **values: Any) -> Channel:
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        before = audit.snapshot(locked, list(values))
        changes = audit.diff(before, values)
        if changes:
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save(update_fields=list(values))
            audit.record(
                actor=actor, action=action, application=locked.application, target=locked, changes=changes
            )
    return locked


def do_update_channel(*, actor: AbstractBaseUser, channel: Channel, display_name: str) -> Channel:
    return _update_channel(actor, channel, "channel.updated", display_name=display_name)


def do_set_channel_active(*, actor: AbstractBaseUser, channel: Channel, active: bool) -> Channel:
    """Deactivate (stop replies; conversations and messages stay) or reactivate a channel."""
    action = "channel.reactivated" if active else "channel.deactivated"
    return _update_channel(actor, channel, action, active=active)


def do_send_test_message(*, channel: Channel, to: str, text: str) -> SendResult:
    """Send one text through the Hub to prove the channel UUID, key and recipient work.

    Not stored as a conversation message: it is a connection test. Raises HubError or SettingsError.
    """
    if not channel.active:
        raise SettingsError("This channel is deactivated.")
    problem = recipient_error(channel.kind, to)
    if problem:
        raise SettingsError(problem)
    client = HubClient.for_application(channel.application)
    with _hub_call(channel.application):
        result = client.send_message(
            channel_kind=channel.kind, channel_id=str(channel.hub_channel_id), to=to, content={"text": text}
        )
    log.info("test message on channel %s: %s %s", channel.pk, result.status, result.message_id)
    return result


def do_refresh_webhooks(*, application: Application) -> list[HubWebhook]:
    """Read our webhooks back from the Hub (isVerified, verifiedAt, numberOfErrors). Raises HubError."""
    client = HubClient.for_application(application)
    refreshed: list[HubWebhook] = []
    with _hub_call(application):
        for hook in application.hub_webhooks.all():
            try:
                info = client.get_webhook(hook.hub_id)
            except HubError as exc:
                if exc.status != 404:
                    raise
                # Deleted at the Hub: say so until "connect webhooks" creates it again.
                HubWebhook.objects.filter(pk=hook.pk).update(
                    active=False, is_verified=False, synced_at=timezone.now()
                )
                continue
            refreshed.append(_record_webhook(application, info))
    return refreshed


# --- Asking the Hub to re-send a delivery: once per log, whichever button asks -----------------------

# A claim whose Hub call never finished (the process died while asking) is taken over after this long:
# far beyond the client's timeouts, so a request still waiting for the Hub is never asked twice.
RETRY_CLAIM_TIMEOUT = timedelta(minutes=10)


def _claim_retry(
    *,
    application: Application,
    hub_webhook_id: str,
    log_id: str,
    source: str,
    actor: AbstractBaseUser | None,
) -> bool:
    """Record that we are about to ask the Hub to re-send log `log_id`. False when it must not be asked.

    Committed before the Hub call, so that the other way of asking (the logs page, the recovery) sees it
    at once; the unique row decides between two that ask together. A log the Hub refused to re-send
    (`accepted` False: nothing was delivered) may be asked again, and so may a claim left by a request
    that died while asking.
    """
    try:
        with transaction.atomic():
            HubDeliveryRetry.objects.create(
                application=application,
                hub_webhook_id=hub_webhook_id,
                hub_log_id=log_id,
                accepted=None,
                source=source,
                requested_by=actor,
            )
        return True
    except IntegrityError:
        pass
    now = timezone.now()
    taken_over = (
        HubDeliveryRetry.objects.filter(
            application=application, hub_webhook_id=hub_webhook_id, hub_log_id=log_id
        )
        .filter(Q(accepted=False) | Q(accepted__isnull=True, requested_at__lt=now - RETRY_CLAIM_TIMEOUT))
        .update(accepted=None, new_log_id="", source=source, requested_by=actor, requested_at=now)
    )
    return taken_over == 1


def _claim_retries(
    *,
    application: Application,
    hub_webhook_id: str,
    log_ids: Iterable[str],
    source: str,
    actor: AbstractBaseUser | None,
) -> list[str]:
    """The ids of `log_ids` claimed for asking (see `_claim_retry`), in order, each once."""
    return [
        log_id
        for log_id in dict.fromkeys(log_ids)
        if _claim_retry(
            application=application,
            hub_webhook_id=hub_webhook_id,
            log_id=log_id,
            source=source,
            actor=actor,
        )
    ]


def _claims(application: Application, hub_webhook_id: str, log_ids: list[str]) -> Any:
    return HubDeliveryRetry.objects.filter(
        application=application, hub_webhook_id=hub_webhook_id, hub_log_id__in=log_ids, accepted__isnull=True
    )


def _release_claims(application: Application, hub_webhook_id: str, log_ids: list[str]) -> None:
    """The Hub could not be asked (or did not answer): forget the claims, so the next run asks again.

    A Hub that re-sent before the answer was lost makes the next ask a duplicate delivery, which the
    ingest stores once.
    """
    _claims(application, hub_webhook_id, log_ids).delete()


def _settle_claims(
    application: Application, hub_webhook_id: str, log_ids: list[str], results: Iterable[RetryResult]
) -> dict[str, RetryResult]:
    """Store the Hub's answer on our claims; a log it did not answer about counts as refused."""
    answered = {result.log_id: result for result in results if result.log_id in log_ids}
    for log_id in log_ids:
        result = answered.setdefault(log_id, RetryResult(log_id=log_id, success=False, new_log_id=None))
        _claims(application, hub_webhook_id, [log_id]).update(
            accepted=result.success, new_log_id=(result.new_log_id or "")[:64]
        )
    return answered


@dataclass(frozen=True)
class RetryOutcome:
    log_id: str
    success: bool
    new_log_id: str | None
    error: str = ""
    # Not asked now: the Hub was asked to re-send this log before (here or by the recovery).
    already_resent: bool = False


def do_retry_webhook_logs(
    *, actor: AbstractBaseUser, application: Application, event_type: str, log_ids: list[str]
) -> list[RetryOutcome]:
    """Ask the Hub to deliver these logged events again (one call for one id, the bulk call for more).

    A log the Hub was already asked to re-send (by hand or by the recovery) is skipped: its outcome is
    a newer log. Success only means the Hub re-sent: the delivery's outcome is the new log (hub-api.md
    §5.3).
    """
    hook = application.hub_webhooks.get(event_type=event_type)
    claimed = _claim_retries(
        application=application,
        hub_webhook_id=hook.hub_id,
        log_ids=log_ids,
        source=HubDeliveryRetry.Source.LOGS,
        actor=actor,
    )
    outcomes: dict[str, RetryOutcome] = {
        log_id: RetryOutcome(log_id, False, None, already_resent=True)
        for log_id in dict.fromkeys(log_ids)
        if log_id not in claimed
    }
    if claimed:
        client = HubClient.for_application(application)
        errors: dict[str, str] = {}
        try:
            with _hub_call(application):
                if len(claimed) == 1:
                    try:
                        results = [client.retry_webhook_log(hook.hub_id, claimed[0])]
                    except HubError as exc:
                        if not exc.permanent:
                            raise
                        # 400 "log cannot be retried" / 404 unknown log: an answer about this log.
                        results = []
                        errors[claimed[0]] = exc.message
                else:
                    results = client.retry_webhook_logs(hook.hub_id, claimed)
        except BaseException:
            _release_claims(application, hook.hub_id, claimed)
            raise
        for log_id, result in _settle_claims(application, hook.hub_id, claimed, results).items():
            outcomes[log_id] = RetryOutcome(log_id, result.success, result.new_log_id, errors.get(log_id, ""))
    ordered = [outcomes[log_id] for log_id in dict.fromkeys(log_ids)]
    changes: dict[str, Any] = {
        "retried logs": {"from": None, "to": [o.log_id for o in ordered if o.success]},
        "not retried": {
            "from": None,
            "to": [o.log_id for o in ordered if not o.success and not o.already_resent],
        },
    }
    if any(o.already_resent for o in ordered):
        changes["already re-sent"] = {"from": None, "to": [o.log_id for o in ordered if o.already_resent]}
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="webhook_logs.retried",
            application=application,
            target=hook,
            changes=changes,
        )
    return ordered


# --- Team ------------------------------------------------------------------------------------------------


def _admins_left(application: Application, *, without_user_id: int) -> bool:
    return (
        Membership.objects.filter(application=application, role=Membership.Role.ADMIN, user__is_active=True)
        .exclude(user_id=without_user_id)
        .exists()
    )


def do_create_agent(
    *,
    actor: AbstractBaseUser,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    access: dict[Application, str],
) -> AbstractBaseUser:
    """A new user with access to the given Applications (role per Application: admin or agent).

    At least one Application is required: a user nobody administers could not be managed again.
    """
    if not access:
        raise SettingsError("Give the new user access to at least one Application.")
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, email=email, password=password, first_name=first_name, last_name=last_name
        )
        profile = {"username": username, "name": user.get_full_name(), "email": email}
        for application, role in access.items():
            Membership.objects.create(user=user, application=application, role=role)
            # Recorded once per Application, so each Application's admins see who joined their team.
            audit.record(
                actor=actor,
                action="user.created",
                application=application,
                target=user,
                target_type="user",
                target_repr=username,
                changes=audit.diff({}, {**profile, "role": role}),
            )
    return user


def do_set_membership(
    *,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    application: Application,
    role: str | None,
) -> Membership | None:
    """Give `user` `role` on `application`, or revoke their access (role None).

    Open tabs of the user hear of it at commit, once per transaction (channels_app/signals.py).
    """
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user=user, application=application).first()
        old_role = membership.role if membership else None
        if old_role == role:
            return membership
        if old_role == Membership.Role.ADMIN and not _admins_left(application, without_user_id=user.pk):
            raise SettingsError(f"{application.name} must keep at least one active admin.")
        if role is None:
            membership.delete()
            action, membership = "membership.revoked", None
        elif membership is None:
            membership = Membership.objects.create(user=user, application=application, role=role)
            action = "membership.granted"
        else:
            membership.role = role
            membership.save(update_fields=["role"])
            action = "membership.changed"
        audit.record(
            actor=actor,
            action=action,
            application=application,
            target=user,
            target_type="user",
            target_repr=user.get_username(),
            changes={"role": {"from": old_role, "to": role}},
        )
    return membership


def do_set_user_active(*, actor: AbstractBaseUser, user: AbstractBaseUser, active: bool) -> AbstractBaseUser:
    """Deactivate (cannot sign in; their messages and audit entries stay) or reactivate a user."""
    if user.pk == actor.pk:
        raise SettingsError("You cannot deactivate yourself.")
    if user.is_superuser and not actor.is_superuser:
        raise SettingsError("Only a superuser can change a superuser.")
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        memberships = list(Membership.objects.filter(user=locked).select_related("application"))
        if not actor.is_superuser:
            administered = set(
                Membership.objects.filter(user=actor, role=Membership.Role.ADMIN).values_list(
                    "application_id", flat=True
                )
            )
            if any(m.application_id not in administered for m in memberships):
                # Deactivating would lock them out of other teams' Applications too.
                raise SettingsError(
                    f"{locked.get_username()} also works on Applications you do not administer: "
                    "revoke their access instead, or ask a superuser."
                )
        if locked.is_active == active:
            return locked
        if not active:
            for m in memberships:
                if m.role == Membership.Role.ADMIN and not _admins_left(
                    m.application, without_user_id=locked.pk
                ):
                    raise SettingsError(f"{m.application.name} must keep at least one active admin.")
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        for m in memberships:
            audit.record(
                actor=actor,
                action="user.reactivated" if active else "user.deactivated",
                application=m.application,
                target=locked,
                target_type="user",
                target_repr=locked.get_username(),
                changes={"active": {"from": not active, "to": active}},
            )
    return locked


def do_set_access(
    *, actor: AbstractBaseUser, user: AbstractBaseUser, access: dict[Application, str | None]
) -> None:
    """Apply a whole access form at once: all of it, or (e.g. the last admin) none of it."""
    with transaction.atomic():
        for application, role in access.items():
            # The user's open tabs hear of the whole form once, at commit (channels_app/signals.py).
            do_set_membership(actor=actor, user=user, application=application, role=role)


def do_run_recovery(*, actor: AbstractBaseUser, application: Application) -> RecoveryReport:
    """The settings button for `manage.py recover_webhooks`, for one Application, audited."""
    report = do_recover_failed_deliveries(application=application, actor=actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="deliveries.recovered",
            application=application,
            target_type="webhooks",
            target_id=str(application.pk),
            target_repr=f"webhooks of {application.name}",
            changes={"re-sent deliveries": {"from": None, "to": report.resent}},
        )
    return report


# --- Recovery of missed deliveries (issue 3): the Hub never retries by itself ---------------------------

# Logs read per webhook per run, and ids per bulk retry: the Hub re-sends inside the retry call, so a batch
# must fit in our read timeout even when our endpoint is slow.
RECOVERY_MAX_LOGS = 1000
RECOVERY_BATCH = 20


@dataclass
class RecoveryReport:
    """What `do_recover_failed_deliveries` did, for the command's output and the settings page."""

    webhooks: int = 0
    failed_logs: int = 0
    resent: int = 0  # the Hub accepted to deliver these again (their outcome is in new logs)
    refused: int = 0  # the Hub would not retry these (success: false)
    kept_here: int = 0  # we answered 400: the body is stored as `invalid` here; reprocess it here
    already_resent: int = 0  # asked in an earlier run
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = gettext(
            "%(failed)s failed deliveries on %(webhooks)s webhook(s): %(resent)s re-sent, "
            "%(already)s already re-sent before, %(kept)s kept here as invalid, "
            "%(refused)s refused by the Hub"
        ) % {
            "failed": self.failed_logs,
            "webhooks": self.webhooks,
            "resent": self.resent,
            "already": self.already_resent,
            "kept": self.kept_here,
            "refused": self.refused,
        }
        if self.errors:
            text += gettext("; errors: %(errors)s") % {"errors": "; ".join(self.errors)}
        return text


def _our_hub_webhook_ids(client: HubClient, application: Application) -> list[str]:
    """Webhooks we registered, plus any other at the Hub that points at our URL (made by hand)."""
    ids = list(application.hub_webhooks.values_list("hub_id", flat=True))
    endpoint = webhook_url(application)
    offset = 0
    while True:
        page = client.list_webhooks(offset=offset, limit=50)
        ids += [hook.id for hook in page.items if hook.endpoint == endpoint and hook.id not in ids]
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return ids


def _failed_logs(client: HubClient, hub_webhook_id: str) -> list[WebhookLog]:
    logs: list[WebhookLog] = []
    offset = 0
    while len(logs) < RECOVERY_MAX_LOGS:
        # hub-api.md §5.3: the docs filter with `Failed`, the OpenAPI says `Error`; the client treats
        # anything but Success as failed, so a Hub that ignores the filter is handled too.
        page = client.list_webhook_logs(hub_webhook_id, status="Failed", offset=offset, limit=50)
        logs += [entry for entry in page.items if entry.failed]
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    # Oldest first, so re-sent events reach us in the order they happened.
    return sorted(logs[:RECOVERY_MAX_LOGS], key=lambda entry: entry.created_at or timezone.now())


def _kept_here_as_invalid(entry: WebhookLog) -> bool:
    """Whether we answered this delivery with our own 400 (`{"error": ...}`): its body is stored here.

    Any other 400 (e.g. a proxy's, or Django refusing the Host) means nothing was stored: re-send it.
    """
    if entry.status_code != 400:
        return False
    try:
        answer = json.loads(entry.response_body)
    except ValueError:
        return False
    return isinstance(answer, dict) and "error" in answer


def do_recover_failed_deliveries(
    *, application: Application, actor: AbstractBaseUser | None = None
) -> RecoveryReport:
    """Ask the Hub to re-send every delivery to us that failed (we were down, slow, or refused it).

    Each failed log is asked for once, by whichever way of asking comes first (HubDeliveryRetry: this,
    or an admin's retry from the delivery logs page), since the Hub keeps it `Failed` after a retry; if
    the re-sent delivery fails again, that new log is picked up by the next run. Deliveries we answered
    400 are not re-sent: their bodies are kept here (outcome `invalid`) and reprocessed from the admin.
    A re-sent event we had in fact processed (e.g. we answered after the Hub's timeout) is a duplicate,
    which the ingest ignores. `actor`: who pressed the Settings button (None for the command). Raises
    HubError when the Hub cannot be reached at all.
    """
    client = HubClient.for_application(application)
    report = RecoveryReport()
    try:
        hook_ids = _our_hub_webhook_ids(client, application)
    except HubError as exc:
        _note_hub_result(application, exc)
        raise
    for hook_id in hook_ids:
        report.webhooks += 1
        try:
            failed = _failed_logs(client, hook_id)
        except HubError as exc:
            report.errors.append(f"webhook {hook_id}: {exc}")
            continue
        report.failed_logs += len(failed)
        resent = resent_log_ids(application, hook_id, (entry.id for entry in failed))
        todo: list[WebhookLog] = []
        for entry in failed:
            if entry.id in resent:
                report.already_resent += 1
            elif _kept_here_as_invalid(entry):
                report.kept_here += 1
            else:
                todo.append(entry)
        for start in range(0, len(todo), RECOVERY_BATCH):
            wanted = [entry.id for entry in todo[start : start + RECOVERY_BATCH]]
            batch = _claim_retries(
                application=application,
                hub_webhook_id=hook_id,
                log_ids=wanted,
                source=HubDeliveryRetry.Source.RECOVERY,
                actor=actor,
            )
            report.already_resent += len(wanted) - len(batch)  # asked by someone else meanwhile
            if not batch:
                continue
            try:
                results = client.retry_webhook_logs(hook_id, batch)
            except HubError as exc:
                _release_claims(application, hook_id, batch)  # the next run asks again
                report.errors.append(f"webhook {hook_id}: {exc}")
                break
            except BaseException:
                _release_claims(application, hook_id, batch)
                raise
            for result in _settle_claims(application, hook_id, batch, results).values():
                if result.success:
                    report.resent += 1
                else:
                    report.refused += 1
    _note_hub_result(application, None if not report.errors else HubError(report.errors[0], permanent=False))
    log.info("webhook recovery for application %s: %s", application.pk, report)
    return report
