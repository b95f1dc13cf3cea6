"""The WhatsApp template library: registered in Settings, picked in the composer, shown as its text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_app.models import AuditEntry, WhatsAppTemplate
from conversations.models import Message
from tests.conftest import login
from tests.inbox.inbox_support import ago, make_conversation

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
UUID = "9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34"
VALID = {
    "hub_template_id": UUID,
    "name": "order_shipped",
    "language": "pt_BR",
    "category": "UTILITY",
    "header": "Pedido enviado",
    "body": "Olá {{1}}, seu pedido {{2}} saiu hoje.",
    "footer": "Loja Exemplo",
    "buttons": "Rastrear\nFalar com atendente",
}


def _templates_url(channel) -> str:
    return reverse("settings:channel_templates", args=[channel.pk])


def _template(channel, **fields) -> WhatsAppTemplate:
    values = {**VALID, "buttons": ["Rastrear"], **fields}
    return channel.templates.create(**values)


def test_an_admin_registers_a_template_and_it_is_listed(admin_client_a, app_a):
    whatsapp = app_a.channels.get(kind="whatsapp")

    response = admin_client_a.post(_templates_url(whatsapp), VALID, follow=True)

    assert "Template order_shipped added." in response.content.decode()
    template = whatsapp.templates.get()
    assert (template.hub_template_id, template.buttons) == (UUID, ["Rastrear", "Falar com atendente"])
    assert "Olá {{1}}, seu pedido {{2}} saiu hoje." in response.content.decode()
    assert AuditEntry.objects.filter(action="template.added").exists()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("hub_template_id", "order_shipped", "A template id is a UUID"),
        ("body", "Olá {{1}}, pedido {{3}}", "without gaps: {{2}} is missing"),
        ("body", "Olá {{2}}", "{{1}} is missing"),
        ("header", "Pedido {{1}}", "Only the body takes variables."),
        ("language", "portuguese", "Enter a language code such as pt_BR"),
        ("buttons", "a\nb\nc\nd", "At most 3 buttons"),
    ],
)
def test_a_bad_template_is_refused_on_save_with_the_reason(admin_client_a, app_a, field, value, error):
    whatsapp = app_a.channels.get(kind="whatsapp")

    response = admin_client_a.post(_templates_url(whatsapp), {**VALID, field: value})

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not WhatsAppTemplate.objects.exists()


def test_the_same_template_twice_is_refused(admin_client_a, app_a):
    whatsapp = app_a.channels.get(kind="whatsapp")
    _template(whatsapp)

    response = admin_client_a.post(_templates_url(whatsapp), VALID)

    assert response.status_code == 422
    assert "already has a template" in response.content.decode()
    assert whatsapp.templates.count() == 1


def test_only_admins_of_the_application_reach_its_template_library(agent_a_client, app_a, app_b, db):
    from channels_app.models import Membership
    from tests.conftest import _user

    other_admin = _user("olga")
    Membership.objects.create(user=other_admin, application=app_b, role=Membership.Role.ADMIN)
    whatsapp = app_a.channels.get(kind="whatsapp")

    assert login(other_admin).get(_templates_url(whatsapp)).status_code == 404
    assert login(other_admin).post(_templates_url(whatsapp), VALID).status_code == 404
    assert agent_a_client.get(_templates_url(whatsapp)).status_code in (302, 403, 404)
    assert not WhatsAppTemplate.objects.exists()


def test_a_non_whatsapp_channel_has_no_template_library(admin_client_a, app_a):
    assert admin_client_a.get(_templates_url(app_a.channels.get(kind="sms"))).status_code == 404


def test_a_template_reply_shows_its_rendered_text_in_bubble_list_review_and_csv(admin_client_a, app_a, admin):
    conversation = make_conversation(app_a, at=ago(hours=30))  # window closed: only a template goes
    template = _template(conversation.channel)

    response = admin_client_a.post(
        reverse("reply", args=[conversation.pk]),
        {"template": template.pk, "template_params": ["Maria", "#A-77"], "idempotency_key": "t-1"},
        **HTMX,
    )

    assert response.status_code == 200, response.content
    bubble = response.content.decode()
    assert "Olá Maria, seu pedido #A-77 saiu hoje." in bubble and "template-badge" in bubble
    assert UUID not in bubble
    reply = Message.objects.get(direction="out")
    assert reply.content["template"]["id"] == UUID
    assert reply.preview.startswith("Pedido enviado Olá Maria, seu pedido #A-77 saiu hoje.")
    inbox = admin_client_a.get(reverse("home")).content.decode()
    assert "Olá Maria, seu pedido #A-77 saiu hoje." in inbox
    review = admin_client_a.get(reverse("review:message", args=[reply.pk])).content.decode()
    assert "Olá Maria, seu pedido #A-77 saiu hoje." in review
    export = b"".join(admin_client_a.get("/review/export.csv").streaming_content).decode("utf-8-sig")
    assert "Olá Maria, seu pedido #A-77 saiu hoje." in export


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (["Maria"], "This template takes 2 variables; 1 were given."),
        (["Maria", "#1", "extra"], "This template takes 2 variables; 3 were given."),
        (["Maria", "  "], "Fill in every variable of the template (empty: {{2}})."),
    ],
    ids=["missing", "extra", "empty"],
)
def test_a_template_with_missing_or_extra_variables_is_refused(agent_a_client, app_a, params, error):
    conversation = make_conversation(app_a, at=ago(minutes=5))
    template = _template(conversation.channel)

    response = agent_a_client.post(
        reverse("reply", args=[conversation.pk]),
        {"template": template.pk, "template_params": params, "idempotency_key": "t-2"},
        **HTMX,
    )

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()


def test_a_template_of_another_channel_cannot_be_sent(agent_a_client, app_a, app_b):
    conversation = make_conversation(app_a, at=ago(minutes=5))
    foreign = _template(app_b.channels.get(kind="whatsapp"))

    response = agent_a_client.post(
        reverse("reply", args=[conversation.pk]),
        {"template": foreign.pk, "template_params": ["a", "b"], "idempotency_key": "t-3"},
        **HTMX,
    )

    assert response.status_code == 422
    assert "Choose one of this channel&#x27;s templates." in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()


def test_the_composer_offers_the_channels_templates_grouped_by_language(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))
    _template(conversation.channel)
    _template(
        conversation.channel, hub_template_id=UUID.replace("9b", "aa"), name="boas_vindas", language="es"
    )

    page = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert '<optgroup label="es"><option value=' in page and '<optgroup label="pt_BR">' in page
    assert 'id="template-library"' in page and "order_shipped" in page
    assert 'name="template_id"' not in page  # no raw UUID box any more
