"""Applications, channels and contacts through the API: members read, admins write, keys are write-only,
another tenant's objects are 404 and a missing role is 403."""

from __future__ import annotations

import uuid

import pytest

from channels_app.models import Application, AuditEntry, Channel, Membership
from conversations.models import Contact
from tests.api.api_support import error_of
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db

NEW_KEY = "hubkey-charlie-6666-7777-8888-cccc"


def test_members_see_their_applications_without_keys_and_the_webhook_url_only_if_admin(
    api_agent_a, api_admin, app_a, app_b
):
    as_agent = api_agent_a.get("/api/v1/applications/")
    as_admin = api_admin.get("/api/v1/applications/")

    assert [a["id"] for a in as_agent.json()] == [app_a.pk]
    agent_view, admin_view = as_agent.json()[0], as_admin.json()[0]
    assert agent_view["webhook_url"] is None and str(app_a.public_id) not in as_agent.content.decode()
    assert str(app_a.public_id) in admin_view["webhook_url"]
    assert (agent_view["role"], admin_view["role"]) == ("agent", "admin")
    assert admin_view["hub_api_key_hint"] == "••••aaaa"
    for response in (as_agent, as_admin):
        assert app_a.hub_api_key not in response.content.decode()
    assert len(agent_view["channels"]) == app_a.channels.count()


def test_another_tenants_application_is_a_404(api_agent_b, app_a):
    assert api_agent_b.get(f"/api/v1/applications/{app_a.pk}/").status_code == 404
    assert api_agent_b.get(f"/api/v1/applications/{app_a.pk}/channels/").status_code == 404


def test_the_legacy_list_still_answers(agent_a_client, app_a):
    response = agent_a_client.get("/api/applications/")

    assert response.status_code == 200
    assert response.json()[0]["name"] == app_a.name


def test_an_admin_creates_an_application_whose_key_the_hub_accepts(api_admin, admin, hub_sandbox):
    hub_sandbox.add_application(name="Charlie Co", api_key=NEW_KEY, channels=[])

    response = api_admin.post("/api/v1/applications/", {"name": "Charlie Co", "hub_api_key": NEW_KEY})

    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "admin" and "hub_api_key" not in body and NEW_KEY not in response.content.decode()
    created = Application.objects.get(pk=body["id"])
    assert created.hub_api_key == NEW_KEY
    assert Membership.objects.filter(user=admin, application=created, role="admin").exists()


def test_a_key_the_hub_refuses_is_a_400_on_the_key_and_stores_nothing(api_admin, hub_sandbox):
    response = api_admin.post("/api/v1/applications/", {"name": "Charlie Co", "hub_api_key": NEW_KEY})

    assert response.status_code == 400
    assert "401" in error_of(response)["fields"]["hub_api_key"][0]
    assert not Application.objects.filter(name="Charlie Co").exists()


def test_a_name_already_used_by_the_user_is_a_400(api_admin, app_a, hub_sandbox):
    response = api_admin.post("/api/v1/applications/", {"name": app_a.name.upper(), "hub_api_key": NEW_KEY})

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["name"]
    assert hub_sandbox.send_attempts()["count"] == 0


def test_agents_cannot_create_or_change_applications(api_agent_a, app_a, hub_sandbox):
    assert api_agent_a.post("/api/v1/applications/", {"name": "X", "hub_api_key": NEW_KEY}).status_code == 403
    refused = api_agent_a.patch(f"/api/v1/applications/{app_a.pk}/", {"name": "Renamed"})
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "permission_denied"
    app_a.refresh_from_db()
    assert app_a.name == "Acme Support"


def test_an_admin_renames_and_replaces_the_key(api_admin, app_a, hub_sandbox):
    hub_sandbox.add_application(name=app_a.name, api_key=NEW_KEY, channels=[])

    response = api_admin.patch(
        f"/api/v1/applications/{app_a.pk}/", {"name": "Acme EU", "hub_api_key": NEW_KEY}
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Acme EU" and response.json()["hub_api_key_hint"] == "••••cccc"
    app_a.refresh_from_db()
    assert app_a.hub_api_key == NEW_KEY
    assert AuditEntry.objects.filter(action="application.key_replaced", application=app_a).exists()


def test_admin_of_another_application_gets_404_not_403(app_b, api_admin):
    assert api_admin.patch(f"/api/v1/applications/{app_b.pk}/", {"name": "Mine now"}).status_code == 404


def test_channels_register_rename_and_deactivate(api_admin, api_agent_a, app_a):
    hub_id = str(uuid.uuid4())
    path = f"/api/v1/applications/{app_a.pk}/channels/"

    made = api_admin.post(path, {"hub_channel_id": hub_id, "kind": "sms", "display_name": "Second SMS"})
    assert made.status_code == 201
    channel_path = f"/api/v1/channels/{made.json()['id']}/"
    assert api_agent_a.get(channel_path).json()["display_name"] == "Second SMS"
    assert api_agent_a.patch(channel_path, {"active": False}).status_code == 403
    changed = api_admin.patch(channel_path, {"active": False, "display_name": "Old SMS"})
    assert changed.json()["active"] is False and changed.json()["display_name"] == "Old SMS"

    again = api_admin.post(path, {"hub_channel_id": hub_id, "kind": "sms", "display_name": "Twice"})
    assert again.status_code == 400 and list(error_of(again)["fields"]) == ["hub_channel_id"]
    assert Channel.objects.filter(hub_channel_id=hub_id).count() == 1


def test_a_channel_of_another_tenant_is_a_404(api_agent_b, app_a):
    channel = app_a.channels.first()

    assert api_agent_b.get(f"/api/v1/channels/{channel.pk}/").status_code == 404
    assert api_agent_b.patch(f"/api/v1/channels/{channel.pk}/", {"active": False}).status_code == 404


# --- contacts -------------------------------------------------------------------------------------


def test_contacts_are_listed_with_the_inbox_filters(api_agent_a, app_a, conversation_b):
    carla = make_conversation(app_a, name="Carla", kind="sms")
    make_conversation(app_a, name="Dora")

    everyone = api_agent_a.get("/api/v1/contacts/").json()["results"]
    found = api_agent_a.get("/api/v1/contacts/", {"q": "carla"}).json()["results"]

    assert {c["display_name"] for c in everyone} == {"Carla", "Dora"}
    assert [c["id"] for c in found] == [carla.contact_id]
    assert found[0]["conversation_id"] == carla.pk and found[0]["channel"]["kind"] == "sms"


def test_a_contact_lists_the_same_number_on_other_channels(api_agent_a, app_a):
    on_whatsapp = make_conversation(app_a, external_id="+5521987654321", kind="whatsapp")
    on_sms = make_conversation(app_a, external_id="+5521987654321", kind="sms")

    body = api_agent_a.get(f"/api/v1/contacts/{on_whatsapp.contact_id}/").json()

    assert [(c["id"], c["conversation_id"]) for c in body["linked_contacts"]] == [
        (on_sms.contact_id, on_sms.pk)
    ]


def test_rename_a_contact(api_agent_a, conversation_a):
    path = f"/api/v1/contacts/{conversation_a.contact_id}/"

    response = api_agent_a.patch(path, {"display_name": "  Carla   Souza "})

    assert response.status_code == 200 and response.json()["display_name"] == "Carla Souza"
    assert api_agent_a.patch(path, {"display_name": "x" * 121}).status_code == 400
    # A number where the schema says string is refused, not stored as its text (schemathesis found it).
    number = api_agent_a.patch(path, {"display_name": 2.5e-198}, format="json")
    assert number.status_code == 400
    assert "display_name" in str(number.json())
    assert Contact.objects.get(pk=conversation_a.contact_id).display_name == "Carla Souza"


def test_another_tenants_contact_is_a_404(api_agent_b, conversation_a):
    path = f"/api/v1/contacts/{conversation_a.contact_id}/"

    assert api_agent_b.get(path).status_code == 404
    assert api_agent_b.patch(path, {"display_name": "Mine"}).status_code == 404
    assert Contact.objects.get(pk=conversation_a.contact_id).display_name == "Carla"
