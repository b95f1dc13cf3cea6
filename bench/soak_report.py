"""The soak's reconciliation: the Hub's account (the sandbox's ledger and send log) against Hubdash's
database, and each inbox tab against the database after its last resync. One table; False on any
mismatch."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.soak_clients import InboxTab, Reply

_TOKEN = re.compile(r"soak-\w+-r(\d+) ")
SETTLED = ("sent", "delivered", "read", "failed")
# Customers write several messages a second to the tab's Application: an open socket that hears
# nothing for this long is not in its groups any more.
DEAF_AFTER = 15.0


@dataclass
class Figures:
    run: str
    args: dict[str, Any]
    load_seconds: float
    load_before: tuple[float, float, float]
    faults: list[Any]
    fault_errors: list[str]
    notes: list[str]
    final_syncs: list[bool]
    worker_kills: list[datetime]
    lease_seconds: float
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class Check:
    label: str
    hub: Any
    hubdash: Any
    ok: bool | None  # None: a figure, not a comparison
    note: str = ""


def _token(text: str) -> int | None:
    found = _TOKEN.search(text or "")
    return int(found.group(1)) if found else None


def reconcile(
    figures: Figures,
    *,
    application: Any,
    ledger: list[dict[str, Any]],
    sends: list[dict[str, Any]],
    send_requests: dict[str, Any],
    replies: list[Reply],
    tabs: list[InboxTab],
    wall_seconds: float,
) -> bool:
    from django.db import connection

    connection.close()  # a fresh connection: the soak cut the old ones
    checks = (
        _inbound(application, ledger)
        + _statuses(application, ledger)
        + _replies(figures, application, sends, send_requests, replies)
    )
    tab_checks = [
        _tab(application, tab, synced) for tab, synced in zip(tabs, figures.final_syncs, strict=True)
    ]
    checks += [c for group in tab_checks for c in group]
    checks += [Check(f"fault: {e}", "", "", False) for e in figures.fault_errors]
    checks += [Check(note, "", "", False) for note in figures.notes if note.startswith("NOT DRAINED")]

    ok = all(c.ok is not False for c in checks)
    args = figures.args
    load_after = os.getloadavg()
    print()
    print("Command: .venv/bin/python -m bench.soak " + " ".join(sys.argv[1:]))
    print(
        f"Soak {figures.run}, {time.strftime('%Y-%m-%d %H:%M')}: {figures.load_seconds:.0f} s of load,"
        f" {args['rate']:g} customer messages/s on {6} channel kinds, {args['reply_rate']:g} replies/s,"
        f" {args['daphnes']} daphne, {args['workers']} workers, {args['tabs']} tabs;"
        f" wall time {wall_seconds:.0f} s; load average before {figures.load_before[0]:.2f},"
        f" after {load_after[0]:.2f}"
    )
    print("Faults:")
    for record in figures.faults:
        print(f"  {record.at:>6.0f} s  {record.name:<9} {record.detail}")
        if record.recovery:
            print(f"  {'':>8}  {'':<9} then {record.recovery}")
    for note in figures.notes:
        print(f"  {note}")
    print()
    width = max(len(c.label) for c in checks) + 2
    print(f"{'':<{width}}{'Hub side':>12}{'Hubdash':>12}  result")
    for c in checks:
        verdict = "" if c.ok is None else ("ok" if c.ok else "MISMATCH")
        note = f"  ({c.note})" if c.note else ""
        print(f"{c.label:<{width}}{c.hub!s:>12}{c.hubdash!s:>12}  {verdict}{note}")
    print()
    print("RESULT:", "every event reconciled" if ok else "MISMATCHES (see above)")
    figures.summary = {
        "run": figures.run,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "command": ".venv/bin/python -m bench.soak " + " ".join(sys.argv[1:]),
        "args": args,
        "load_seconds": round(figures.load_seconds, 1),
        "wall_seconds": round(wall_seconds, 1),
        "load_average_before": figures.load_before,
        "load_average_after": load_after,
        "faults": [vars(r) for r in figures.faults],
        "notes": figures.notes,
        "checks": [vars(c) for c in checks],
        "ok": ok,
    }
    return ok


def _inbound(application: Any, ledger: list[dict[str, Any]]) -> list[Check]:
    from conversations.models import Message, WebhookEvent

    events = [e for e in ledger if e["eventType"] == "Message"]
    owed = {e["messageId"] for e in events}
    taken = {e["messageId"] for e in events if e["accepted"]}
    stored = Counter(
        Message.objects.filter(conversation__application=application, direction="in").values_list(
            "hub_message_id", flat=True
        )
    )
    twice = [k for k, n in stored.items() if n > 1]
    # A customer's reaction to a message we have is kept on that message (its badge), not as a message
    # of its own: such an event counts as stored when Hubdash processed it.
    reactions = set()
    for body in WebhookEvent.objects.filter(
        application=application, event_type="Message", outcome="processed"
    ).values_list("body", flat=True):
        try:
            event = json.loads(bytes(body))
        except ValueError:
            continue
        content = event.get("content") if isinstance(event, dict) else None
        if (
            isinstance(content, dict)
            and content.get("type") == "reaction"
            and event["messageId"] not in stored
        ):
            reactions.add(event["messageId"])
    stored.update(reactions)
    rows = Counter(
        WebhookEvent.objects.filter(application=application, event_type="Message").values_list(
            "outcome", flat=True
        )
    )
    accepted_deliveries = sum(e["accepted"] for e in events)
    retried = sum(1 for e in events if e["deliveries"] > e["copies"])
    return [
        Check("customer messages the Hub had to deliver", len(owed), "", None),
        Check(
            "  deliveries: attempts / answered 2xx",
            sum(e["deliveries"] for e in events),
            accepted_deliveries,
            None,
            f"{sum(e['copies'] == 2 for e in events)} events duplicated,"
            f" {sum(e['reordered'] for e in events)} reordered, {retried} re-sent by recovery",
        ),
        Check(
            "  events taken (a 2xx) vs messages stored",
            len(taken),
            len(stored),
            taken == set(stored),
            f"{len(taken - set(stored))} taken, not stored; {len(set(stored) - taken)} stored, not taken"
            if taken != set(stored)
            else f"{len(reactions)} of them reactions, kept on the message they react to",
        ),
        Check("  events never taken (lost)", len(owed - taken), "", not (owed - taken)),
        Check("  messages stored twice", "", len(twice), not twice),
        Check(
            "  2xx deliveries vs webhook rows (processed + duplicate)",
            accepted_deliveries,
            rows["processed"] + rows["duplicate"],
            rows["processed"] + rows["duplicate"] >= accepted_deliveries,
            f"processed {rows['processed']}, duplicate {rows['duplicate']}, failed {rows['failed']},"
            f" rejected {rows['rejected']}, ignored {rows['ignored']}, invalid {rows['invalid']}"
            + (
                "; more rows than 2xx answers: taken, but the answer was lost"
                if rows["processed"] + rows["duplicate"] > accepted_deliveries
                else ""
            ),
        ),
    ]


def _statuses(application: Any, ledger: list[dict[str, Any]]) -> list[Check]:
    from conversations.models import WebhookEvent

    events = [e for e in ledger if e["eventType"] == "MessageStatus"]
    owed = {(e["messageId"], e["status"], e["timestamp"]) for e in events}
    taken = {(e["messageId"], e["status"], e["timestamp"]) for e in events if e["accepted"]}
    processed = WebhookEvent.objects.filter(
        application=application, event_type="MessageStatus", outcome="processed"
    ).count()
    return [
        Check(
            "delivery statuses: events taken vs applied",
            len(taken),
            processed,
            len(taken) == processed,
            f"{sum(e['copies'] == 2 for e in events)} duplicated, {sum(e['reordered'] for e in events)}"
            " reordered",
        ),
        Check("  status events never taken (lost)", len(owed - taken), "", not (owed - taken)),
    ]


def _replies(
    figures: Figures,
    application: Any,
    sends: list[dict[str, Any]],
    send_requests: dict[str, Any],
    replies: list[Reply],
) -> list[Check]:
    from conversations.models import Message, SendAttempt

    answered = [r for r in replies if r.status == 200]
    rows = {
        row["idempotency_key"]: row
        for row in Message.objects.filter(conversation__application=application, direction="out").values(
            "pk", "idempotency_key", "status", "error_code", "error_message", "hub_message_id", "content"
        )
    }
    unstored = [r for r in answered if r.key not in rows or rows[r.key]["pk"] != r.message_id]
    statuses = Counter(row["status"] for row in rows.values())
    unsettled = [row for row in rows.values() if row["status"] not in SETTLED]
    failed_silently = [row for row in rows.values() if row["status"] == "failed" and not row["error_message"]]
    reasons = Counter(row["error_code"] for row in rows.values() if row["status"] == "failed")

    by_token = Counter(_token(s["content"].get("text", "")) for s in sends)
    last_status = {s["messageId"]: s["lastStatus"] for s in sends}
    token_of = {key: _token(row["content"].get("text", "")) for key, row in rows.items()}
    twice = {key for key, token in token_of.items() if by_token.get(token, 0) > 1}
    explained: set[str] = set()
    for killed_at in figures.worker_kills:
        # The at-least-once window (README, Replies): the worker killed between the Hub's accept and
        # storing it; the sweep recorded that attempt `worker_lost` and sent again.
        explained |= set(
            SendAttempt.objects.filter(
                message__idempotency_key__in=twice,
                error_code="worker_lost",
                started_at__gte=killed_at - timedelta(seconds=figures.lease_seconds + 1),
                started_at__lte=killed_at,
            ).values_list("message__idempotency_key", flat=True)
        )
    unexplained = twice - explained
    sent_not_at_hub = [
        key
        for key, row in rows.items()
        if row["status"] in ("sent", "delivered", "read") and not by_token.get(token_of[key])
    ]
    failed_but_sent = [
        key for key, row in rows.items() if row["status"] == "failed" and by_token.get(token_of[key])
    ]
    status_differs = [
        key
        for key, row in rows.items()
        if key not in twice
        and row["hub_message_id"] in last_status
        and last_status[row["hub_message_id"]] != row["status"]
    ]
    return [
        Check(
            "replies: posted by agents / stored",
            len(replies),
            len(rows),
            len(answered) == len(replies) and not unstored and len(rows) == len(answered),
            f"{sum(r.posts - 1 for r in replies)} POSTs repeated with the same key after an error;"
            f" {len(replies) - len(answered)} never answered 200, {len(unstored)} answered but not stored",
        ),
        Check(
            "  send requests to the Hub: all / accepted",
            send_requests["count"],
            send_requests["accepted"],
            None,
            "by HTTP status " + ", ".join(f"{k}: {v}" for k, v in send_requests["byStatus"].items()),
        ),
        Check(
            "  replies ended sent or later",
            len(sends),
            statuses["sent"] + statuses["delivered"] + statuses["read"],
            not sent_not_at_hub,
            f"sent {statuses['sent']}, delivered {statuses['delivered']}, read {statuses['read']};"
            f" {len(sent_not_at_hub)} sent here but unknown to the Hub",
        ),
        Check(
            "  replies ended failed, with a reason",
            "",
            statuses["failed"],
            not failed_silently and not failed_but_sent,
            ", ".join(f"{code}: {n}" for code, n in reasons.items())
            + (f"; {len(failed_silently)} without a reason" if failed_silently else "")
            + (f"; {len(failed_but_sent)} failed here but accepted by the Hub" if failed_but_sent else ""),
        ),
        Check("  replies left pending/enqueued", "", len(unsettled), not unsettled),
        Check(
            "  replies the Hub accepted twice",
            len(twice),
            "",
            not unexplained,
            f"{len(explained)} inside the documented window of the killed worker"
            + (f", {len(unexplained)} unexplained: {sorted(unexplained)[:5]}" if unexplained else ""),
        ),
        Check(
            "  final status = the Hub's last status",
            len(last_status),
            sum(1 for row in rows.values() if row["hub_message_id"] in last_status) - len(status_differs),
            not status_differs,
            f"{len(status_differs)} differ" if status_differs else "",
        ),
    ]


def _tab(application: Any, tab: InboxTab, synced: bool) -> list[Check]:
    from conversations.models import Conversation, Message
    from conversations.selectors.inbox import sort_key

    messages = {
        pk: (status if direction == "out" else "")
        for pk, direction, status in Message.objects.filter(conversation_id=tab.conversation_id).values_list(
            "pk", "direction", "status"
        )
    }
    shown = tab.thread_messages()
    lowest = min(shown, default=0) if tab.thread.more_before else 0
    expected = {pk: status for pk, status in messages.items() if pk >= lowest}
    missing = expected.keys() - shown.keys()
    extra = shown.keys() - messages.keys()
    stale = [pk for pk in expected.keys() & shown.keys() if expected[pk] != shown[pk]]

    conversations = Conversation.objects.filter(application=application)
    rows = {c.pk: (sort_key(c), str(c.unread_count)) for c in conversations}
    shown_rows = tab.row_states()
    if tab.rows.more_after and shown_rows:
        floor = min(key for key, _ in shown_rows.values())
        rows = {pk: row for pk, row in rows.items() if row[0] >= floor}
    rows_differ = [pk for pk in rows.keys() | shown_rows.keys() if rows.get(pk) != shown_rows.get(pk)]
    s = tab.stats
    return [
        Check(
            f"{tab.name}: longest silence of an open socket (s)",
            "",
            f"{s.longest_silence:.0f}",
            s.longest_silence <= DEAF_AFTER,
            f"{s.event_frames} event frames"
            + (
                f"; open but deaf: no event for over {DEAF_AFTER:.0f} s while customers wrote"
                if s.longest_silence > DEAF_AFTER
                else ""
            ),
        ),
        Check(
            f"{tab.name}: thread messages",
            "",
            f"{len(shown)}/{len(expected)}",
            synced and not missing and not extra and not stale,
            f"first shown by an event {len(s.live_messages)}, by a resync {len(s.missed_live)};"
            f" {s.connects} connects, closes {dict(Counter(s.closes))},"
            f" {s.gaps} gaps, {s.resyncs} resyncs, {s.stale_sockets} stale sockets"
            + ("" if synced else "; NO ANSWER to the final resync")
            + (f"; missing {sorted(missing)[:5]}" if missing else "")
            + (f"; extra {sorted(extra)[:5]}" if extra else "")
            + (f"; stale status {sorted(stale)[:5]}" if stale else ""),
        ),
        Check(
            f"{tab.name}: inbox rows",
            "",
            f"{len(shown_rows)}/{len(rows)}",
            not rows_differ,
            f"{len(rows_differ)} differ: {sorted(rows_differ)[:5]}" if rows_differ else "",
        ),
    ]
