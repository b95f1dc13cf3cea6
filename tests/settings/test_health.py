"""The health panel: what an admin looks at when "messages stopped arriving"."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_app.models import Application
from conversations.models import Message, SendAttempt
from conversations.selectors.health import health
from tests.settings.conftest import make_message


def _panel(client):
    return client.get(reverse("settings:health"))


@pytest.mark.django_db
def test_the_send_queue_counts_replies_waiting_for_a_worker(admin_client_a, app_a):
    channel = app_a.channels.get(kind="whatsapp")
    now = timezone.now()
    for n in range(3):  # stored and due: waiting for a worker
        make_message(channel, direction="out", status="pending", external_id=f"55219000000{n}")
    retry = make_message(channel, direction="out", status="pending", external_id="5521900000009")
    Message.objects.filter(pk=retry.pk).update(next_attempt_at=now + timedelta(hours=1))  # waits its time
    sending = make_message(channel, direction="out", status="pending", external_id="5521900000008")
    Message.objects.filter(pk=sending.pk).update(locked_until=now + timedelta(seconds=30))  # a worker has it
    make_message(channel, direction="out", status="sent", external_id="5521900000007")

    report = _panel(admin_client_a).context["report"]

    assert (report.queue_due, report.queue_scheduled, report.queue_running) == (3, 1, 1)
    assert report.queue_oldest_due_at is not None
    assert not report.queue_stalled


@pytest.mark.django_db
def test_a_queue_nobody_works_on_is_called_out(admin_client_a, app_a):
    channel = app_a.channels.get(kind="whatsapp")
    make_message(channel, direction="out", status="pending", created_at=timezone.now() - timedelta(minutes=5))
    Message.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    body = _panel(admin_client_a).content.decode()
    assert "is the worker (<code>manage.py run_worker</code>) running?" in body


@pytest.mark.django_db
def test_a_queue_a_worker_keeps_up_with_is_not_called_out(admin_client_a, app_a):
    # The control: the same reply, due just now, is no alarm.
    channel = app_a.channels.get(kind="whatsapp")
    make_message(channel, direction="out", status="pending")
    Message.objects.update(next_attempt_at=timezone.now())

    body = _panel(admin_client_a).content.decode()
    assert "is the worker" not in body


@pytest.mark.django_db
def test_oldest_pending_reply_is_shown(admin_client_a, app_a):
    channel = app_a.channels.get(kind="whatsapp")
    make_message(channel, direction="out", status="pending", created_at=timezone.now() - timedelta(minutes=7))
    make_message(channel, direction="out", status="pending", external_id="5521999990001")
    make_message(
        channel,
        direction="out",
        status="sent",
        external_id="5521999990002",
        created_at=timezone.now() - timedelta(hours=3),
    )

    response = _panel(admin_client_a)

    report = response.context["report"]
    assert report.pending_replies == 2
    assert timezone.now() - report.oldest_pending_reply_at >= timedelta(minutes=7)
    assert '<dd data-testid="oldest-pending">7\xa0minutes ago</dd>' in response.content.decode()


@pytest.mark.django_db
def test_last_inbound_message_per_channel(admin_client_a, app_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    sms = app_a.channels.get(kind="sms")
    make_message(whatsapp, direction="in", status="received", created_at=timezone.now() - timedelta(hours=2))
    latest = make_message(whatsapp, direction="in", status="received", external_id="5521999990001")
    make_message(
        sms,
        direction="in",
        status="received",
        external_id="+14155550123",
        created_at=timezone.now() - timedelta(days=3),
    )
    make_message(sms, direction="out", status="sent", external_id="+14155550124")  # outbound: not counted

    rows = {
        row.channel.kind: row.last_inbound_at for row in _panel(admin_client_a).context["report"].channels
    }

    assert rows["whatsapp"] == latest.created_at
    assert timezone.now() - rows["sms"] >= timedelta(days=3)
    assert rows["telegram"] is None


@pytest.mark.django_db
def test_health_queries_do_not_grow_with_the_number_of_channels(app_a, app_b):
    def count(applications):
        with CaptureQueriesContext(connection) as queries:
            health(applications)
        return len(queries)

    assert count([app_a]) == count([app_a, app_b])


@pytest.mark.django_db
def test_last_hub_errors_are_shown(admin_client_a, app_a, hub_sandbox):
    admin_client_a.post(reverse("settings:application_test_connection", args=[app_a.pk]))  # key unknown: 401
    reply = make_message(app_a.channels.get(kind="sms"), direction="out", status="failed")
    SendAttempt.objects.create(
        message=reply,
        number=1,
        started_at=timezone.now(),
        outcome=SendAttempt.Outcome.PERMANENT_ERROR,
        http_status=400,
        error_code="invalid_recipient",
        error_message="'to' is not a valid E.164 number",
    )

    body = _panel(admin_client_a).content.decode()

    assert "HTTP 401 [unauthorized]: the Hub refused the API key (invalid API key)" in body
    assert "&#x27;to&#x27; is not a valid E.164 number" in body
    assert "invalid_recipient" in body


@pytest.mark.django_db
def test_health_shows_only_the_admins_applications(admin_client_a, app_a, app_b):
    make_message(app_b.channels.get(kind="sms"), direction="out", status="pending")

    report = _panel(admin_client_a).context["report"]

    assert [a.application for a in report.applications] == [app_a]
    assert {row.channel.application_id for row in report.channels} == {app_a.pk}
    assert report.pending_replies == 0


@pytest.mark.django_db
def test_the_page_checks_the_websocket_from_the_browser_and_refreshes_itself(admin_client_a, app_a):
    page = _panel(admin_client_a).content.decode()
    assert "data-ws-check" in page and "/static/js/settings.js" in page
    assert 'hx-trigger="every 15s"' in page

    partial = admin_client_a.get(reverse("settings:health"), headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="health-panel"')
    assert "<html" not in partial


@pytest.mark.django_db
def test_a_superuser_sees_every_application_in_health(superuser, app_a, app_b):
    from tests.conftest import login

    report = login(superuser).get(reverse("settings:health")).context["report"]
    assert {a.application.pk for a in report.applications} == set(
        Application.objects.values_list("pk", flat=True)
    )
    assert Message.objects.count() == 0
