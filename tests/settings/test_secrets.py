"""No page, response, log line or audit entry of the settings area contains a key or signing secret."""

import json
import logging
import uuid

import pytest
from django.urls import reverse

from channels_app.models import Application, AuditEntry, SigningSecret
from tests.conftest import login
from tests.settings.conftest import settings_pages, settings_posts

KEY = "hubkey-SECRET-echo-5150-5150-eeee"
NEW_KEY = "hubkey-SECRET-foxtrot-6160-ffff"
REFUSED_KEY = "hubkey-SECRET-golf-refused-gggg"


@pytest.mark.django_db(transaction=True)
def test_keys_and_signing_secrets_never_appear_in_pages_logs_or_the_audit_log(
    admin, hub_sandbox, live_server, settings, caplog
):
    caplog.set_level(logging.DEBUG)
    settings.PUBLIC_BASE_URL = live_server.url
    whatsapp, sms = uuid.uuid4(), uuid.uuid4()
    hub_sandbox.add_application(
        name="Echo",
        api_key=KEY,
        channels=[
            {"id": str(whatsapp), "kind": "whatsapp", "name": "WA"},
            {"id": str(sms), "kind": "sms", "name": "SMS"},
        ],
    )
    client = login(admin)
    seen: list[str] = []

    def visit(response) -> None:
        seen.append(f"{response.status_code} {response.headers!r}\n{response.content.decode()}")

    def sweep() -> None:
        for url in [*settings_pages(app), reverse("application_list")]:
            visit(client.get(url))
        for query in ({"event": "MessageStatus"}, {"status": "Failed"}, {"status": "Success"}):
            visit(client.get(reverse("settings:webhook_logs", args=[app.pk]), query))

    # The whole life of an Application, including every error path that handles a key.
    visit(client.post(reverse("settings:application_create"), {"name": "Echo", "api_key": REFUSED_KEY}))
    visit(client.post(reverse("settings:application_create"), {"name": "Echo", "api_key": KEY}, follow=True))
    app = Application.objects.get(name="Echo")
    for channel_id, kind in [(whatsapp, "whatsapp"), (sms, "sms")]:
        visit(
            client.post(
                reverse("settings:channel_create", args=[app.pk]),
                {"hub_channel_id": str(channel_id), "kind": kind, "display_name": kind},
                follow=True,
            )
        )
    visit(client.post(reverse("settings:webhooks_connect", args=[app.pk]), follow=True))
    visit(client.post(reverse("settings:webhooks_connect", args=[app.pk]), follow=True))
    assert app.hub_webhooks.filter(is_verified=True).count() == 2
    [delivery] = hub_sandbox.customer_message(channel_id=str(whatsapp), sender="5521987654321")["deliveries"]
    assert delivery["statusCode"] == 200  # accepted by our real ingest: its answer is in the Hub's logs
    sweep()
    assert "Success" in seen[-1]  # the Hub's log of that delivery, with our ingest's answer
    visit(client.post(reverse("settings:application_test_connection", args=[app.pk]), follow=True))
    channel = app.channels.get(kind="sms")
    visit(
        client.post(
            reverse("settings:channel_test_message", args=[channel.pk]),
            {"to": "+14155550123", "text": "test"},
            follow=True,
        )
    )
    visit(client.post(reverse("settings:application_key", args=[app.pk]), {"api_key": REFUSED_KEY}))
    hub_sandbox.add_application(name="Echo", api_key=NEW_KEY, channels=[])  # the Hub: "generate new key"
    # (the sandbox ties one key to one application, so the new key reaches a fresh one: fine for this test)
    visit(client.post(reverse("settings:application_key", args=[app.pk]), {"api_key": NEW_KEY}, follow=True))
    visit(client.post(reverse("settings:webhooks_refresh", args=[app.pk]), follow=True))
    visit(client.post(reverse("settings:webhooks_recover", args=[app.pk]), follow=True))
    sweep()
    assert all(text.startswith(("200 ", "302 ")) for text in seen)
    for url in settings_posts(app):
        visit(client.post(url, {}, follow=True))
    visit(client.get(reverse("settings:health"), headers={"HX-Request": "true"}))

    secrets = [KEY, NEW_KEY, REFUSED_KEY, *SigningSecret.objects.values_list("secret", flat=True)]
    assert len(secrets) >= 5  # the keys, and a signing secret per webhook really were stored
    audit_text = json.dumps(list(AuditEntry.objects.values()), default=str, ensure_ascii=False)
    # The sandbox plays the Hub in this process; its own log lines are the Hub's, not ours.
    log_text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("hubsandbox")
    )
    app.refresh_from_db()
    stored_errors = app.last_hub_error
    for secret in secrets:
        for text in seen:
            assert secret not in text
        assert secret not in audit_text
        assert secret not in log_text
        assert secret not in stored_errors
    # What may be shown instead: the last four characters.
    assert any("••••ffff" in text for text in seen)
    assert '"to": "••••ffff"' in audit_text
