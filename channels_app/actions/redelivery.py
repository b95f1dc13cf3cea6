"""Having the Hub re-send deliveries: an admin's retry of chosen logs, and the recovery of every failed one
(the Hub never retries by itself). Each log is asked for once, whichever button or command asks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.actions.common import hub_call, note_hub_result
from channels_app.actions.webhooks import webhook_url
from channels_app.hub import HubClient, HubError, RetryResult, WebhookLog
from channels_app.models import (
    Application,
    HubDeliveryRetry,
)
from channels_app.selectors import resent_log_ids

log = logging.getLogger(__name__)


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
    actor: AuthUser | None,
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
    actor: AuthUser | None,
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
    *, actor: AuthUser, application: Application, event_type: str, log_ids: list[str]
) -> list[RetryOutcome]:
    """Ask the Hub to deliver these logged events again (one call for one id, the bulk call for more).

    A log the Hub was already asked to re-send (by hand or by the recovery) is skipped: its outcome is
    a newer log. Success only means the Hub re-sent: the delivery's outcome is the new log
    (docs/hub.md, Delivery logs and retries).
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
            with hub_call(application):
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
        failed = ngettext("%(count)s failed delivery", "%(count)s failed deliveries", self.failed_logs) % {
            "count": self.failed_logs
        }
        webhooks = ngettext("%(count)s webhook", "%(count)s webhooks", self.webhooks) % {
            "count": self.webhooks
        }
        text = gettext(
            "%(failed)s on %(webhooks)s: %(resent)s re-sent, %(already)s already re-sent before, "
            "%(kept)s kept here as invalid, %(refused)s refused by the Hub"
        ) % {
            "failed": failed,
            "webhooks": webhooks,
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
        # docs/hub.md, Delivery logs and retries: the docs filter with `Failed`, the OpenAPI says `Error`; the client treats
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
    *, application: Application, actor: AuthUser | None = None
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
        note_hub_result(application, exc)
        raise
    for hook_id in hook_ids:
        report.webhooks += 1
        try:
            failed = _failed_logs(client, hook_id)
        except HubError as exc:
            report.errors.append(gettext("webhook %(id)s: %(error)s") % {"id": hook_id, "error": exc})
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
                report.errors.append(gettext("webhook %(id)s: %(error)s") % {"id": hook_id, "error": exc})
                break
            except BaseException:
                _release_claims(application, hook_id, batch)
                raise
            for result in _settle_claims(application, hook_id, batch, results).values():
                if result.success:
                    report.resent += 1
                else:
                    report.refused += 1
    note_hub_result(application, None if not report.errors else HubError(report.errors[0], permanent=False))
    log.info("webhook recovery for application %s: %s", application.pk, report)
    return report


def do_run_recovery(*, actor: AuthUser, application: Application) -> RecoveryReport:
    """The settings button for `manage.py recover_webhooks`, for one Application, audited."""
    report = do_recover_failed_deliveries(application=application, actor=actor)
    with transaction.atomic():
        audit.record_for_webhooks(
            actor=actor,
            action="deliveries.recovered",
            application=application,
            changes={"re-sent deliveries": {"from": None, "to": report.resent}},
        )
    return report
