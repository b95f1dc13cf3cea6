"""Canned replies: shared (admins) and personal (anyone), audit-logged; their variables are checked when
saved and filled for the thread and the agent when the composer offers them."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest

from channels_app.models import AuditEntry
from conversations.actions.canned import CannedError, do_create_canned_reply
from conversations.canned import fill, unknown_variables
from conversations.models import CannedReply
from tests.conftest import login
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db


def offered(page: str) -> list[dict]:
    match = re.search(r'id="canned-replies" hidden data-items="([^"]*)"', page)
    assert match, "no canned replies in the composer"
    return json.loads(htmllib.unescape(match.group(1)))


def add(client, app, **data):
    values = {"code": "hello", "title": "Greeting", "body": "Hi", **data}
    return client.post(f"/settings/applications/{app.pk}/canned-replies/", values)


def test_the_composer_offers_shared_and_own_replies_with_variables_filled(admin, agent_a, app_a):
    do_create_canned_reply(
        actor=admin,
        application=app_a,
        code="hi",
        title="Greeting",
        body="Olá {{contact.name}} ({{ contact.id }}), aqui é {{agent.first_name}} ({{agent.name}}) da {{application.name}}.",
        shared=True,
    )
    do_create_canned_reply(actor=admin, application=app_a, code="mine", title="Ada's", body="x", shared=False)
    conversation = make_conversation(app_a, name="Maria Souza", external_id="5521999990000")

    page = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()

    assert offered(page) == [
        {
            "code": "hi",
            "title": "Greeting",
            "body": "Olá Maria Souza (5521999990000), aqui é Alice (Alice Agent) da Acme Support.",
        }
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"code": "two words"}, "no spaces"),
        ({"code": "hello"}, "already taken"),
        ({"body": "Hi {{contact.nme}}"}, "Unknown variable {{contact.nme}}"),
        ({"body": "Hi {{contact.name"}, "Unknown variable {{…}}"),
        ({"body": "x" * 10_001}, "at most 10000 characters"),
        ({"body": "   "}, "The reply cannot be empty"),
    ],
)
def test_a_bad_canned_reply_is_a_form_error_and_stores_nothing(admin, app_a, data, error):
    client = login(admin)
    add(client, app_a)

    response = add(
        client, app_a, code=data.get("code", "other"), **{k: v for k, v in data.items() if k != "code"}
    )

    assert response.status_code == 200  # the form again, with the error
    assert error in htmllib.unescape(response.content.decode())
    assert CannedReply.objects.count() == 1


def test_every_change_is_audit_logged(admin, app_a):
    client = login(admin)
    add(client, app_a, shared="on")
    reply = CannedReply.objects.get()
    client.post(f"/settings/canned-replies/{reply.pk}/", {"code": "hello2", "title": "G", "body": "Hey"})
    client.post(f"/settings/canned-replies/{reply.pk}/delete/")

    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "canned_reply.created",
        "canned_reply.changed",
        "canned_reply.deleted",
    ]


def test_an_agent_keeps_personal_replies_but_cannot_share_or_change_shared_ones(admin, agent_a, app_a):
    shared = do_create_canned_reply(
        actor=admin, application=app_a, code="hi", title="G", body="Hi", shared=True
    )
    client = login(agent_a)

    add(client, app_a, code="mine", shared="on")  # the box is not offered; posted anyway, it is refused
    assert CannedReply.objects.filter(code="mine").count() == 0
    add(client, app_a, code="mine")
    assert CannedReply.objects.get(code="mine").owner_id == agent_a.pk
    assert client.post(f"/settings/canned-replies/{shared.pk}/delete/").status_code == 403
    assert CannedReply.objects.filter(pk=shared.pk).exists()
    with pytest.raises(CannedError):
        do_create_canned_reply(actor=agent_a, application=app_a, code="x", title="t", body="b", shared=True)


def test_another_tenant_never_sees_or_changes_a_canned_reply(admin, agent_a, agent_b, app_a):
    shared = do_create_canned_reply(
        actor=admin, application=app_a, code="secret", title="Secret of A", body="Hi", shared=True
    )
    own = do_create_canned_reply(
        actor=agent_a, application=app_a, code="own", title="Alice's", body="Hi", shared=False
    )
    client = login(agent_b)

    assert client.get(f"/settings/applications/{app_a.pk}/canned-replies/").status_code == 404
    for reply in (shared, own):
        assert client.get(f"/settings/canned-replies/{reply.pk}/").status_code == 404
        assert client.post(f"/settings/canned-replies/{reply.pk}/delete/").status_code == 404
    # And one colleague's personal reply is not another's.
    assert login(admin).get(f"/settings/canned-replies/{own.pk}/").status_code == 404
    assert CannedReply.objects.count() == 2


def test_canned_reply_fields_are_escaped(admin, app_a, agent_a):
    do_create_canned_reply(
        actor=admin,
        application=app_a,
        code="x",
        title="<script>t()</script>",
        body="<b>{{contact.name}}</b>",
        shared=True,
    )
    conversation = make_conversation(app_a, name="<img src=x onerror=alert(1)>")

    for url in (f"/settings/applications/{app_a.pk}/canned-replies/", f"/conversations/{conversation.pk}/"):
        page = login(admin).get(url).content.decode()
        assert "<script>t()" not in page and "<img src=x" not in page


def test_variables_are_checked_and_filled():
    assert unknown_variables("Hi {{contact.name}} {{ agent.first_name }}") == []
    assert unknown_variables("Hi {{customer}} }}") == ["{{customer}}", "{{…}}"]
    assert fill("Hi {{ contact.name }}!", {"contact.name": "Ana"}) == "Hi Ana!"
