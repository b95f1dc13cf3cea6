"""The contact panel: facts, notes, and links between one person's contacts on several channels."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_app.models import AuditEntry
from conversations.models import Contact, Message, Person
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db


def panel_of(client, conversation) -> str:
    """The panel alone (the list beside it names every contact too)."""
    html = client.get(reverse("conversation", args=[conversation.pk])).content.decode()
    start = html.index(f'id="contact-panel-{conversation.pk}"')
    return html[start : html.index("</details>", start)]


def link(client, conversation, other, **extra):
    return client.post(
        reverse("link_contact", args=[conversation.pk]),
        {"other": other.contact_id},
        HTTP_HX_REQUEST="true",
        **extra,
    )


def test_the_panel_shows_the_contact_and_its_conversation(agent_a_client, app_a):
    conversation = make_conversation(app_a, name="Marta", external_id="5521999990000")

    html = panel_of(agent_a_client, conversation)

    assert f'id="contact-panel-{conversation.pk}"' in html
    assert "5521999990000" in html and "Acme Support" in html and "First seen" in html


def test_linking_shows_the_same_person_on_every_channel_without_moving_messages(agent_a_client, app_a):
    whatsapp = make_conversation(app_a, name="Marta", external_id="5521999990000")
    instagram = make_conversation(app_a, kind="instagram", external_id="17840000000000001")
    messages_before = dict(Message.objects.values_list("pk", "conversation_id"))

    response = link(agent_a_client, whatsapp, instagram)

    assert response.status_code == 200
    html = response.content.decode()
    assert "17840000000000001" in html and f'href="/conversations/{instagram.pk}/"' in html
    assert "17840000000000001" in panel_of(agent_a_client, whatsapp)
    assert "5521999990000" in panel_of(agent_a_client, instagram)  # both ways
    assert dict(Message.objects.values_list("pk", "conversation_id")) == messages_before
    assert AuditEntry.objects.filter(action="contact.linked", target_id=str(whatsapp.contact_id)).count() == 1


def test_unlinking_undoes_the_link_and_is_audited(agent_a_client, app_a):
    whatsapp = make_conversation(app_a, external_id="5521999990000")
    instagram = make_conversation(app_a, kind="instagram", external_id="17840000000000001")
    link(agent_a_client, whatsapp, instagram)

    response = agent_a_client.post(
        reverse("unlink_contact", args=[whatsapp.pk]),
        {"contact": instagram.contact_id},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "17840000000000001" not in panel_of(agent_a_client, whatsapp)
    assert not Person.objects.exists() and not Contact.objects.filter(person__isnull=False).exists()
    assert AuditEntry.objects.filter(action="contact.unlinked").count() == 1


def test_linking_a_third_contact_joins_the_whole_person(agent_a_client, app_a):
    a = make_conversation(app_a, external_id="5521999990000")
    b = make_conversation(app_a, kind="instagram")
    c = make_conversation(app_a, kind="telegram")
    link(agent_a_client, b, c)

    link(agent_a_client, a, b)

    assert Person.objects.count() == 1
    assert Contact.objects.filter(person__isnull=False).count() == 3


def test_a_contact_cannot_be_linked_to_itself(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    response = link(agent_a_client, conversation, conversation)

    assert response.status_code == 422
    assert "cannot be linked to itself" in response.content.decode()
    assert not Person.objects.exists() and not AuditEntry.objects.exists()


def test_a_contact_cannot_be_linked_to_another_applications(admin_client_a, admin, app_a, app_b):
    from channels_app.models import Membership

    Membership.objects.create(user=admin, application=app_b, role=Membership.Role.ADMIN)
    ours = make_conversation(app_a)
    theirs = make_conversation(app_b)

    response = link(admin_client_a, ours, theirs)

    assert response.status_code == 422
    assert "same Application" in response.content.decode()
    assert not Person.objects.exists()


def test_another_tenants_contact_is_not_found(agent_a_client, app_a, app_b):
    ours = make_conversation(app_a)
    theirs = make_conversation(app_b)

    assert link(agent_a_client, ours, theirs).status_code == 404
    candidates = agent_a_client.get(
        reverse("link_candidates", args=[ours.pk]), {"q": theirs.contact.external_id}
    )
    assert theirs.contact.external_id not in candidates.content.decode()
    assert not Person.objects.exists()


def test_another_tenant_cannot_open_or_change_the_panel(agent_b_client, app_a):
    conversation = make_conversation(app_a)

    assert (
        agent_b_client.post(reverse("contact_notes", args=[conversation.pk]), {"notes": "x"}).status_code
        == 404
    )
    assert (
        agent_b_client.get(reverse("link_candidates", args=[conversation.pk]), {"q": "55"}).status_code == 404
    )
    assert Contact.objects.get(pk=conversation.contact_id).notes == ""


def test_candidates_are_the_same_applications_other_contacts(agent_a_client, app_a):
    mine = make_conversation(app_a, name="Marta Souza")
    other = make_conversation(app_a, kind="instagram", name="Marta S.")
    make_conversation(app_a, name="Pedro")

    html = agent_a_client.get(reverse("link_candidates", args=[mine.pk]), {"q": "marta"}).content.decode()

    assert f'value="{other.contact_id}"' in html
    assert f'value="{mine.contact_id}"' not in html and "Pedro" not in html


def test_notes_are_saved_escaped_and_audited(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    response = agent_a_client.post(
        reverse("contact_notes", args=[conversation.pk]),
        {"notes": "Prefers <b>mornings</b>\nVIP"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "Prefers &lt;b&gt;mornings&lt;/b&gt;" in response.content.decode()
    assert Contact.objects.get(pk=conversation.contact_id).notes == "Prefers <b>mornings</b>\nVIP"
    assert AuditEntry.objects.filter(action="contact.notes_changed").count() == 1


def test_notes_that_are_too_long_are_refused_and_nothing_is_stored(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    response = agent_a_client.post(
        reverse("contact_notes", args=[conversation.pk]), {"notes": "x" * 5001}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "at most 5000 characters" in response.content.decode()
    assert Contact.objects.get(pk=conversation.contact_id).notes == ""
