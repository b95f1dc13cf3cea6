"""The delivery review: leads see their Applications' replies, filter them, read counts and timings,
follow one reply's timeline, retry failed ones in bulk and export exactly the rows they filtered."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_app.models import Membership
from conversations.actions.replies import do_attempt_send, do_retry_reply, do_send_reply, due_replies
from conversations.models import Message, MessageStatusChange
from tests.conftest import PASSWORD, login
from tests.sending.conftest import key, make_conversation

DAY = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)


def reply(
    conversation, *, status="sent", author=None, error_code="", created_at=DAY, text="hello", since=None
):
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction="out",
        content={"text": text},
        preview=text,
        status=status,
        author=author,
        error_code=error_code,
        error_message=f"error {error_code}" if error_code else "",
        attempt_count=1,
    )
    Message.objects.filter(pk=message.pk).update(created_at=created_at, status_changed_at=since or created_at)
    message.refresh_from_db()
    return message


def report(message, status: str, after_seconds: float) -> None:
    MessageStatusChange.objects.create(
        application_id=message.channel.application_id,
        message=message,
        hub_message_id=message.hub_message_id or "",
        status=status,
        occurred_at=message.created_at + timedelta(seconds=after_seconds),
        applied=True,
    )


def shown_ids(response) -> set[int]:
    return {
        int(i) for i in re.findall(r'class="review-row[^"]*" data-message="(\d+)"', response.content.decode())
    }


def shown_count(response, name: str) -> int:
    return int(re.search(rf'data-count="{name}">(\d+)<', response.content.decode()).group(1))


def csv_rows(client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/review/export.csv{query}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark spreadsheets look for
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def admin_b(app_b):
    user = get_user_model().objects.create_user(username="bea", password=PASSWORD, first_name="Bea")
    Membership.objects.create(user=user, application=app_b, role=Membership.Role.ADMIN)
    return user


@pytest.mark.django_db
def test_agents_and_visitors_cannot_open_the_review(client, agent_a_client, agent_b_client, app_a, agent_a):
    message = reply(make_conversation(app_a, "telegram"), status="failed", author=agent_a, error_code="x")
    for c in (agent_a_client, agent_b_client):
        assert c.get("/review/").status_code == 403
        assert c.get("/review/export.csv").status_code == 403
        assert c.get(f"/review/messages/{message.pk}/").status_code == 403
        assert c.post("/review/retry/", {"message": [message.pk]}).status_code == 403
    assert client.get("/review/").status_code == 302  # to the sign-in page
    message.refresh_from_db()
    assert message.status == "failed"


@pytest.mark.django_db
def test_the_delivery_link_is_shown_to_leads_only(admin_client_a, agent_a_client, superuser):
    assert 'href="/review/">Delivery</a>' in admin_client_a.get("/applications/").content.decode()
    assert 'href="/review/">Delivery</a>' in login(superuser).get("/applications/").content.decode()
    assert "Delivery</a>" not in agent_a_client.get("/applications/").content.decode()


@pytest.mark.django_db
def test_a_lead_sees_only_the_applications_they_administer(
    admin, admin_b, app_a, app_b, agent_a, agent_b, superuser
):
    mine = reply(make_conversation(app_a, "sms"), author=agent_a, text="A's reply")
    theirs = reply(make_conversation(app_b, "sms"), author=agent_b, text="B's reply")
    lead_a, lead_b = login(admin), login(admin_b)

    assert shown_ids(lead_a.get("/review/")) == {mine.pk}
    assert shown_ids(lead_b.get("/review/")) == {theirs.pk}
    assert shown_ids(login(superuser).get("/review/")) == {mine.pk, theirs.pk}
    # Asking for B's Application or B's message by id changes nothing / is a 404.
    assert shown_ids(lead_a.get(f"/review/?application={app_b.pk}")) == set()
    assert lead_a.get(f"/review/messages/{theirs.pk}/").status_code == 404
    assert [row["id"] for row in csv_rows(lead_a)] == [str(mine.pk)]
    assert "B&#x27;s reply" not in lead_a.get("/review/").content.decode()


@pytest.mark.django_db
def test_filters_counts_and_csv_match_the_rows(admin_client_a, app_a, admin, agent_a):
    other_agent = get_user_model().objects.create_user(username="otto", first_name="Otto")
    Membership.objects.create(user=other_agent, application=app_a)
    sms, tg = make_conversation(app_a, "sms"), make_conversation(app_a, "telegram")
    rows = [
        reply(sms, status="delivered", author=agent_a, created_at=DAY - timedelta(days=1)),
        reply(sms, status="failed", author=agent_a, error_code="30003", created_at=DAY),
        reply(sms, status="failed", author=other_agent, error_code="unauthorized", created_at=DAY),
        reply(tg, status="sent", author=other_agent, created_at=DAY),
        reply(tg, status="failed", author=agent_a, error_code="30003", created_at=DAY + timedelta(days=1)),
        reply(tg, status="pending", author=agent_a, created_at=DAY + timedelta(days=1)),
        reply(tg, status="read", author=other_agent, created_at=DAY + timedelta(days=2)),
    ]
    cases = {
        "": lambda m: True,
        f"?channel={sms.channel_id}": lambda m: m.channel_id == sms.channel_id,
        "?status=failed": lambda m: m.status == "failed",
        "?error_code=30003": lambda m: m.error_code == "30003",
        f"?agent={other_agent.pk}": lambda m: m.author_id == other_agent.pk,
        "?date_from=2026-01-06&date_to=2026-01-07": lambda m: (
            DAY.date() <= m.created_at.date() <= DAY.date() + timedelta(days=1)
        ),
        f"?application={app_a.pk}&status=failed&agent={agent_a.pk}": lambda m: (
            m.status == "failed" and m.author_id == agent_a.pk
        ),
        "?date_to=2026-01-05": lambda m: m.created_at.date() <= (DAY - timedelta(days=1)).date(),
    }
    for query, keep in cases.items():
        expected = [m for m in rows if keep(m)]
        response = admin_client_a.get(f"/review/{query}")
        assert shown_ids(response) == {m.pk for m in expected}, query
        assert shown_count(response, "total") == len(expected), query
        for status in ("pending", "enqueued", "sent", "delivered", "read", "failed"):
            assert shown_count(response, status) == sum(m.status == status for m in expected), (query, status)
        exported = csv_rows(admin_client_a, query)
        assert {int(row["id"]) for row in exported} == {m.pk for m in expected}, query
        by_id = {int(row["id"]): row for row in exported}
        for m in expected:
            row = by_id[m.pk]
            assert (row["status"], row["error_code"], row["channel_kind"]) == (
                m.status,
                m.error_code,
                m.channel.kind,
            )
    # The CSV link on the page carries the filters.
    page = admin_client_a.get("/review/?status=failed&error_code=30003").content.decode()
    assert 'href="/review/export.csv?status=failed&amp;error_code=30003"' in page


@pytest.mark.django_db
def test_pages_are_keyset_paginated_and_counts_cover_every_page(admin_client_a, app_a, agent_a):
    conversation = make_conversation(app_a, "telegram")
    ids = [reply(conversation, author=agent_a).pk for _ in range(55)]
    first = admin_client_a.get("/review/")
    assert shown_ids(first) == set(ids[-50:])
    assert shown_count(first, "total") == 55
    older = re.search(r'rel="next" href="\?before=(\d+)"', first.content.decode()).group(1)
    assert shown_ids(admin_client_a.get(f"/review/?before={older}")) == set(ids[:5])


@pytest.mark.django_db
def test_median_and_p90_time_to_delivered_and_to_read(admin_client_a, app_a, agent_a):
    conversation = make_conversation(app_a, "whatsapp")
    for seconds in range(1, 11):  # delivered after 1 s … 10 s
        message = reply(conversation, status="delivered", author=agent_a)
        report(message, "sent", 0.5)
        report(message, "delivered", seconds)
    for seconds in (30, 90):
        message = reply(conversation, status="read", author=agent_a)
        report(message, "read", seconds)  # read with no delivered report still counts as delivered
    reply(conversation, status="sent", author=agent_a)  # not delivered: left out of both

    page = admin_client_a.get("/review/").content.decode()
    delivered = re.search(
        r'data-timing="delivered">.*?<td>(\d+)</td><td class="median">(.*?)</td><td class="p90">(.*?)</td>',
        page,
    )
    read = re.search(
        r'data-timing="read">.*?<td>(\d+)</td><td class="median">(.*?)</td><td class="p90">(.*?)</td>', page
    )
    # delivered: 1..10 s, 30 s, 90 s -> 12 values, median (6+7)/2, nearest-rank p90 = 11th = 30 s.
    assert delivered.groups() == ("12", "6.5 s", "30.0 s")
    assert read.groups() == ("2", "1 min 00 s", "1 min 30 s")


@pytest.mark.django_db
def test_replies_stuck_in_enqueued_or_sent_are_flagged(admin_client_a, app_a, agent_a, settings):
    settings.DELIVERY_STUCK_AFTER_MINUTES = 15
    now = timezone.now()
    wa, sms, tg = (make_conversation(app_a, k) for k in ("whatsapp", "sms", "telegram"))
    stuck = {
        reply(wa, status="enqueued", author=agent_a, created_at=now, since=now - timedelta(minutes=20)).pk,
        reply(sms, status="sent", author=agent_a, created_at=now, since=now - timedelta(minutes=16)).pk,
    }
    reply(wa, status="enqueued", author=agent_a, created_at=now, since=now - timedelta(minutes=5))
    reply(
        tg, status="sent", author=agent_a, created_at=now, since=now - timedelta(hours=2)
    )  # Telegram stops at sent
    reply(sms, status="delivered", author=agent_a, created_at=now, since=now - timedelta(hours=2))

    page = admin_client_a.get("/review/")
    flagged = {
        int(i) for i in re.findall(r'class="review-row stuck" data-message="(\d+)"', page.content.decode())
    }
    assert flagged == stuck
    assert shown_count(page, "stuck") == 2
    assert shown_ids(admin_client_a.get("/review/?stuck=1")) == stuck
    assert {int(r["id"]) for r in csv_rows(admin_client_a, "?stuck=1")} == stuck


@pytest.mark.django_db
def test_csv_cells_that_look_like_formulas_are_neutralised(admin_client_a, app_a, agent_a):
    reply(make_conversation(app_a, "telegram"), author=agent_a, text='=HYPERLINK("http://evil")')
    [row] = csv_rows(admin_client_a)
    assert row["preview"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.django_db
def test_a_replys_timeline_shows_every_attempt_and_status_change(
    admin_client_a, sandbox_a, app_a, agent_a, fast_sending
):
    sandbox_a.configure(sendErrorRate=1.0)
    message = do_send_reply(
        conversation=make_conversation(app_a, "telegram"),
        author=agent_a,
        content={"text": "<b>hi</b>"},
        idempotency_key=key(),
    )
    assert do_attempt_send(message_id=message.pk) == "retry"
    sandbox_a.configure(sendErrorRate=0.0)
    message.refresh_from_db()
    time.sleep(max((message.next_attempt_at - timezone.now()).total_seconds(), 0))
    assert do_attempt_send(message_id=message.pk) == "sent"

    page = admin_client_a.get(f"/review/messages/{message.pk}/").content.decode()
    assert page.count('class="attempt"') == 2
    assert 'data-outcome="transient"' in page and 'data-outcome="accepted"' in page
    assert "Attempt 1: Transient error" in page and "HTTP 500" in page
    assert "Attempt 2: Accepted" in page
    assert "Status sent" in page
    assert "Stored as pending" in page and "by Alice Agent" in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page and "<b>hi</b>" not in page  # message text is escaped


@pytest.mark.django_db
def test_bulk_retry_sends_failed_replies_again_and_leaves_other_tenants_alone(
    admin_client_a,
    sandbox_a,
    app_a,
    app_b,
    agent_a,
    agent_b,
    fast_sending,
    django_capture_on_commit_callbacks,
):
    fast_sending.HUB_SEND_MAX_ATTEMPTS = 1
    sandbox_a.configure(sendErrorRate=1.0)  # transient: a retry can mend these
    failed = []
    for n in range(3):
        m = do_send_reply(
            conversation=make_conversation(app_a, "sms", external_id="+14155550123")
            if n == 0
            else failed[0].conversation,
            author=agent_a,
            content={"text": f"bulk {n}"},
            idempotency_key=key(),
        )
        assert do_attempt_send(message_id=m.pk) == "failed"
        failed.append(m)
    foreign = reply(make_conversation(app_b, "sms"), status="failed", author=agent_b, error_code="x")
    refused = reply(failed[0].conversation, status="failed", author=agent_a, error_code="http_400")
    Message.objects.filter(pk=refused.pk).update(permanent_failure=True)  # the Hub refused its content
    sandbox_a.configure(sendErrorRate=0.0)

    page = admin_client_a.get("/review/?status=failed").content.decode()
    assert all(f'name="message" value="{m.pk}" form="bulk-retry"' in page for m in failed)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_a.post(
            "/review/retry/",
            {
                "message": [failed[0].pk, failed[1].pk, foreign.pk, refused.pk],
                "next": "/review/?status=failed",
            },
            follow=True,
        )
    assert response.redirect_chain[-1][0] == "/review/?status=failed"
    text = response.content.decode()
    assert "2 replies queued to be sent again." in text
    assert f"#{foreign.pk}: no such reply." in text
    assert "1 reply skipped: the Hub refused its content" in text
    refused.refresh_from_db()
    assert refused.status == "failed"
    foreign.refresh_from_db()
    assert foreign.status == "failed"
    assert set(due_replies().values_list("pk", flat=True)) == {failed[0].pk, failed[1].pk}

    for m in failed[:2]:
        assert do_attempt_send(message_id=m.pk) == "sent"
        assert m.attempts.order_by("-number").first().manual
    failed[2].refresh_from_db()
    assert failed[2].status == "failed"  # not selected, not touched
    assert len(sandbox_a.accepted_sends()) == 2


@pytest.mark.django_db
def test_the_review_page_query_count_does_not_grow_with_rows(admin_client_a, app_a, agent_a):
    conversation = make_conversation(app_a, "sms")
    reply(conversation, author=agent_a)
    with CaptureQueriesContext(connection) as few:
        admin_client_a.get("/review/")
    for _ in range(30):
        reply(conversation, author=agent_a, status="failed", error_code="x")
    with CaptureQueriesContext(connection) as many:
        admin_client_a.get("/review/")
    assert len(many) == len(few)


@pytest.mark.django_db
def test_bulk_retry_checks_access_once_for_the_whole_selection(admin_client_a, app_a, agent_a):
    conversation = make_conversation(app_a, "sms")
    failed = [reply(conversation, status="failed", author=agent_a, error_code="x") for _ in range(7)]

    def queries(action) -> int:
        with CaptureQueriesContext(connection) as captured:
            action()
        return len(captured)

    def bulk(messages) -> None:
        response = admin_client_a.post("/review/retry/", {"message": [m.pk for m in messages]})
        assert response.status_code == 302

    one_action = queries(lambda: do_retry_reply(message_id=failed[0].pk, actor=agent_a))
    two = queries(lambda: bulk(failed[1:3]))
    four = queries(lambda: bulk(failed[3:7]))

    # Each further reply costs what the retry itself costs, nothing more: access is one query in all.
    assert four - two == 2 * one_action
    assert Message.objects.filter(pk__in=[m.pk for m in failed], status="pending").count() == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("date_to=9999-12-31", "To: Enter a date between 1900-01-01 and 2999-12-31."),
        ("date_from=0001-01-01", "From: Enter a date between 1900-01-01 and 2999-12-31."),
        ("date_from=9999-12-31", "From: Enter a date between 1900-01-01 and 2999-12-31."),
        ("date_to=2026-13-45", "To: Enter a date as YYYY-MM-DD."),
        ("date_from=20260106", "From: Enter a date as YYYY-MM-DD."),
        ("application=99999999999999999999999", "Application: Ensure this value is less than or equal to"),
    ],
)
def test_an_impossible_filter_is_said_on_the_page_and_the_other_filters_still_apply(
    admin_client_a, app_a, agent_a, query, error
):
    conversation = make_conversation(app_a, "sms")
    failed = reply(conversation, status="failed", author=agent_a, error_code="x")
    reply(conversation, status="sent", author=agent_a)

    response = admin_client_a.get(f"/review/?{query}&status=failed")

    assert response.status_code == 200
    assert error in response.content.decode()
    assert shown_ids(response) == {failed.pk}  # the refused filter is dropped, the status filter kept


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01", "date_to=yesterday"])
def test_the_csv_export_with_an_impossible_date_exports_nothing_and_says_why(
    admin_client_a, app_a, agent_a, query
):
    reply(make_conversation(app_a, "sms"), status="failed", author=agent_a, error_code="x")

    response = admin_client_a.get(f"/review/export.csv?{query}", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/review/?{query}"
    assert not response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert "Nothing exported: correct the filters first." in body
    assert 'id="filter-errors"' in body


@pytest.mark.django_db
def test_the_widest_accepted_dates_still_filter(admin_client_a, app_a, agent_a):
    message = reply(make_conversation(app_a, "sms"), author=agent_a)

    query = "?date_from=1900-01-01&date_to=2999-12-31"
    response = admin_client_a.get(f"/review/{query}")

    assert response.status_code == 200
    assert 'id="filter-errors"' not in response.content.decode()
    assert shown_ids(response) == {message.pk}
    assert [row["id"] for row in csv_rows(admin_client_a, query)] == [str(message.pk)]
