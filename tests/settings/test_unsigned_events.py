"""The "accept unsigned events" switch: off by default (the webhook fails closed), flipped only by an
admin of the Application, audited, and shouted about on the webhooks and health pages while it is on."""

import pytest
from django.test import Client
from django.urls import reverse

from channels_app.models import AuditEntry
from conversations.models import Message, WebhookEvent
from tests.conftest import login
from tests.ingest.ingest_support import message_event, post_event

pytestmark = pytest.mark.django_db

WARNING = "Anyone who knows this Application's webhook URL can post messages into the inbox."


def switch(client: Client, app, accept: bool):
    url = reverse("settings:webhooks_accept_unsigned", args=[app.pk])
    return client.post(url, {"accept": "1" if accept else "0"}, follow=True)


def deliver_unsigned(app) -> int:
    whatsapp = app.channels.get(kind="whatsapp")
    return post_event(Client(enforce_csrf_checks=True), app, message_event(whatsapp), secret=None).status_code


def test_an_application_never_connected_refuses_unsigned_events_and_its_page_says_why(admin_client_a, app_a):
    assert deliver_unsigned(app_a) == 401

    assert not Message.objects.exists()
    rejected = WebhookEvent.objects.get()
    assert rejected.outcome == WebhookEvent.Outcome.REJECTED
    assert "no active signing secret" in rejected.error
    page = admin_client_a.get(reverse("settings:webhooks", args=[app_a.pk])).content.decode()
    assert "No signing secret yet" in page
    assert "Unsigned events are accepted" not in page
    assert "Accept unsigned events" in page  # the switch's button, off


def test_an_admin_turns_on_accept_unsigned_events_and_an_unsigned_message_reaches_the_inbox(
    admin_client_a, app_a
):
    health_before = admin_client_a.get(reverse("settings:health")).content.decode()
    assert WARNING not in health_before  # the control: no warning while the switch is off

    response = switch(admin_client_a, app_a, True)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Support now accepts unsigned events" in body
    assert "Unsigned events are accepted" in body
    assert "Refuse unsigned events" in body
    assert deliver_unsigned(app_a) == 200
    assert Message.objects.get().preview == "Quero saber o prazo de entrega"
    inbox = admin_client_a.get(reverse("home")).content.decode()
    assert "Quero saber o prazo de entrega" in inbox
    health = admin_client_a.get(reverse("settings:health")).content.decode()
    assert WARNING in health
    assert "unsigned events accepted" in health
    assert "unsigned events accepted" in admin_client_a.get(reverse("settings:index")).content.decode()


def test_turning_the_switch_on_and_off_is_audited_and_off_refuses_again(admin_client_a, app_a):
    switch(admin_client_a, app_a, True)
    switch(admin_client_a, app_a, True)  # already on: nothing changes, nothing recorded
    response = switch(admin_client_a, app_a, False)

    assert "Acme Support accepts only events signed with one of its signing secrets again." in (
        response.content.decode()
    )
    app_a.refresh_from_db()
    assert app_a.accept_unsigned_events is False
    entries = list(AuditEntry.objects.filter(application=app_a).order_by("id"))
    assert [(e.action, e.actor_name, e.changes) for e in entries] == [
        ("webhooks.unsigned_accepted", "ada", {"accept_unsigned_events": {"from": False, "to": True}}),
        ("webhooks.unsigned_refused", "ada", {"accept_unsigned_events": {"from": True, "to": False}}),
    ]
    audit_page = admin_client_a.get(reverse("settings:audit")).content.decode()
    assert "webhooks.unsigned_accepted" in audit_page and "webhooks.unsigned_refused" in audit_page
    assert deliver_unsigned(app_a) == 401
    assert not Message.objects.exists()


def test_an_agent_cannot_flip_the_switch(agent_a_client, app_a, admin):
    response = agent_a_client.post(
        reverse("settings:webhooks_accept_unsigned", args=[app_a.pk]), {"accept": "1"}
    )

    assert response.status_code == 403
    app_a.refresh_from_db()
    assert app_a.accept_unsigned_events is False
    assert not AuditEntry.objects.exists()
    assert deliver_unsigned(app_a) == 401


def test_an_admin_of_another_application_gets_404_and_changes_nothing(admin_client_a, app_b, admin_b):
    response = admin_client_a.post(
        reverse("settings:webhooks_accept_unsigned", args=[app_b.pk]), {"accept": "1"}
    )

    assert response.status_code == 404
    app_b.refresh_from_db()
    assert app_b.accept_unsigned_events is False
    assert not AuditEntry.objects.exists()
    # The control: B's own admin can.
    assert switch(login(admin_b), app_b, True).status_code == 200
    app_b.refresh_from_db()
    assert app_b.accept_unsigned_events is True


def test_a_post_without_a_choice_changes_nothing(admin_client_a, app_a):
    response = admin_client_a.post(
        reverse("settings:webhooks_accept_unsigned", args=[app_a.pk]), {"accept": "yes"}, follow=True
    )

    assert "Choose whether to accept unsigned events." in response.content.decode()
    app_a.refresh_from_db()
    assert app_a.accept_unsigned_events is False
    assert not AuditEntry.objects.exists()
