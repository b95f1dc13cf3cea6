"""The audit log: who changed what, when, from what to what; each admin sees their Applications'."""

import pytest
from django.urls import reverse

from channels_app import audit
from channels_app.models import AuditEntry
from tests.conftest import login


@pytest.mark.django_db
def test_the_audit_page_shows_who_changed_what_from_what_to_what(admin_client_a, app_a):
    channel = app_a.channels.get(kind="telegram")
    admin_client_a.post(reverse("settings:channel", args=[channel.pk]), {"display_name": "Bot"})

    response = admin_client_a.get(reverse("settings:audit"))

    [entry] = response.context["page"].entries
    body = response.content.decode()
    assert f'data-audit="{entry.pk}"' in body
    assert "<td>ada</td>" in body
    assert "channel.updated" in body and "Bot (Telegram)" in body
    assert "<strong>Name</strong>: Acme Support Telegram → Bot" in body


@pytest.mark.django_db
def test_an_admin_sees_only_their_applications_entries(admin_client_a, app_a, app_b, superuser):
    audit.record(actor=superuser, action="application.updated", application=app_b, target=app_b)
    audit.record(actor=superuser, action="application.updated", application=app_a, target=app_a)

    entries = admin_client_a.get(reverse("settings:audit")).context["page"].entries
    everything = login(superuser).get(reverse("settings:audit")).context["page"].entries

    assert [e.application for e in entries] == [app_a]
    assert {e.application for e in everything} == {app_a, app_b}


@pytest.mark.django_db
def test_the_audit_log_filters_by_application_and_pages_by_older_entries(superuser, app_a, app_b):
    for n in range(60):
        audit.record(
            actor=superuser,
            action="application.updated",
            application=app_a,
            target=app_a,
            changes={"n": {"from": n, "to": n + 1}},
        )
    audit.record(actor=superuser, action="application.updated", application=app_b, target=app_b)
    client = login(superuser)

    first = client.get(reverse("settings:audit"), {"application": app_a.pk})
    second = client.get(reverse("settings:audit") + first.context["next_url"])

    assert len(first.context["page"].entries) == 50 and len(second.context["page"].entries) == 10
    assert (
        first.context["next_url"] == f"?before={first.context['page'].entries[-1].pk}&application={app_a.pk}"
    )
    assert not second.context["next_url"]
    seen = [e.pk for e in first.context["page"].entries + second.context["page"].entries]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 60
    assert all(e.application == app_a for e in second.context["page"].entries)


@pytest.mark.django_db
def test_entries_keep_the_actors_name_after_the_account_is_deleted(admin, app_a):
    entry = audit.record(actor=admin, action="application.updated", application=app_a, target=app_a)
    admin.delete()
    entry.refresh_from_db()
    assert entry.actor is None and entry.actor_name == "ada"
    assert AuditEntry.objects.count() == 1
