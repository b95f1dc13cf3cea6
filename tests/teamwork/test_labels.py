"""Labels: admins define them (audit-logged), agents put them on conversations (an activity line, the
row and header live), the inbox filters by every label asked for, and no tenant sees another's."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.utils import timezone

from channels_app.models import AuditEntry
from conversations.actions.labels import LabelError, do_create_label, do_set_label
from conversations.models import Label
from hubdash.asgi import application
from tests.conftest import login
from tests.inbox.inbox_support import connect, frames_until_quiet, make_conversation, sync_message

pytestmark = pytest.mark.django_db(transaction=True)


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li id="conv-(\d+)"', html)]


def test_an_admin_creates_renames_and_deletes_a_label_audit_logged(admin, app_a):
    client = login(admin)

    response = client.post(
        f"/settings/applications/{app_a.pk}/labels/", {"name": " Billing ", "colour": "#e03131"}
    )
    assert response.status_code == 302
    label = Label.objects.get()
    assert (label.name, label.colour) == ("Billing", "#e03131")
    client.post(f"/settings/labels/{label.pk}/", {"name": "Invoices", "colour": "#2f9e44"})
    client.post(f"/settings/labels/{label.pk}/delete/")

    assert not Label.objects.exists()
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "label.created",
        "label.changed",
        "label.deleted",
    ]


@pytest.mark.parametrize(
    ("name", "colour", "error"),
    [
        ("", "#e03131", "This field is required"),
        ("billing", "#e03131", "already has a label with that name"),
        ("Other", "red; background: url(x)", "Select a valid choice"),
    ],
)
def test_a_bad_label_is_a_form_error_and_stores_nothing(admin, app_a, name, colour, error):
    do_create_label(actor=admin, application=app_a, name="Billing", colour="#1c7ed6")

    response = login(admin).post(
        f"/settings/applications/{app_a.pk}/labels/", {"name": name, "colour": colour}
    )

    assert response.status_code == 200  # the form again, with the error
    assert error in response.content.decode()
    assert Label.objects.count() == 1


def test_agents_and_other_tenants_cannot_manage_labels(admin, agent_a, agent_b, app_a):
    label = do_create_label(actor=admin, application=app_a, name="Billing", colour="#1c7ed6")

    assert login(agent_a).get(f"/settings/applications/{app_a.pk}/labels/").status_code == 403
    assert login(agent_b).post(f"/settings/labels/{label.pk}/delete/").status_code == 403
    assert Label.objects.filter(pk=label.pk).exists()


def test_labels_on_a_conversation_show_on_its_row_and_header_and_the_filter_finds_them(admin, agent_a, app_a):
    billing = do_create_label(actor=admin, application=app_a, name="Billing", colour="#e03131")
    urgent = do_create_label(actor=admin, application=app_a, name="Urgent", colour="#f08c00")
    both = make_conversation(app_a)
    one = make_conversation(app_a)
    make_conversation(app_a)
    client = login(agent_a)

    for conversation, label in ((both, billing), (both, urgent), (one, billing)):
        response = client.post(
            f"/conversations/{conversation.pk}/labels/", {"label": f"{label.pk}:add"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert f'data-label="{label.pk}"' in response.content.decode()

    assert sorted(row_ids(client.get(f"/?labels={billing.pk}").content.decode())) == sorted([both.pk, one.pk])
    assert row_ids(client.get(f"/?labels={billing.pk},{urgent.pk}").content.decode()) == [both.pk]
    assert row_ids(client.get(f"/?label={urgent.pk}").content.decode()) == [both.pk]
    page = client.get(f"/conversations/{both.pk}/").content.decode()
    assert "Alice Agent added the label Urgent" in page
    client.post(f"/conversations/{both.pk}/labels/", {"label": f"{urgent.pk}:remove"})
    assert row_ids(client.get(f"/?labels={urgent.pk}").content.decode()) == []
    assert "Alice Agent removed the label Urgent" in client.get(f"/conversations/{both.pk}/").content.decode()


def test_another_tenants_label_cannot_be_put_on_a_conversation(admin, agent_a, agent_b, app_a, app_b):
    theirs = Label.objects.create(application=app_b, name="Theirs")
    conversation = make_conversation(app_a)

    response = login(agent_a).post(
        f"/conversations/{conversation.pk}/labels/", {"label": f"{theirs.pk}:add"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    with pytest.raises(LabelError):
        do_set_label(conversation=conversation, label=theirs, on=True, actor=agent_a)
    assert not conversation.labels.exists()
    # Nor can B's agent label A's conversation, or see A's labels in its filter bar.
    mine = do_create_label(actor=admin, application=app_a, name="Secret label of A", colour="#1c7ed6")
    assert (
        login(agent_b)
        .post(f"/conversations/{conversation.pk}/labels/", {"label": f"{mine.pk}:add"})
        .status_code
        == 404
    )
    assert "Secret label of A" not in login(agent_b).get("/").content.decode()


def test_label_names_are_escaped(admin, agent_a, app_a):
    label = do_create_label(
        actor=admin, application=app_a, name="<img src=x onerror=alert(1)>", colour="#1c7ed6"
    )
    conversation = make_conversation(app_a)
    do_set_label(conversation=conversation, label=label, on=True, actor=agent_a)

    for url in ("/", f"/conversations/{conversation.pk}/", f"/settings/applications/{app_a.pk}/labels/"):
        html = login(admin).get(url).content.decode()
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_label_added_in_one_tab_reaches_the_row_of_a_tab_filtered_by_it(
    admin, agent_a, agent_b, app_a, app_b
):
    label = do_create_label(actor=admin, application=app_a, name="Billing", colour="#e03131")
    conversation = make_conversation(app_a)

    async def scenario():
        filtered = await connect(agent_a, application)
        other = await connect(agent_b, application)
        await filtered.send_json_to(
            sync_message(filters=f"labels={label.pk}", since=timezone.now().isoformat())
        )
        await other.send_json_to(sync_message(since=timezone.now().isoformat()))
        await frames_until_quiet(filtered)
        await frames_until_quiet(other)
        await database_sync_to_async(do_set_label)(
            conversation=conversation, label=label, on=True, actor=admin
        )
        heard, leaked = await frames_until_quiet(filtered), await frames_until_quiet(other)
        await filtered.disconnect()
        await other.disconnect()
        return heard, leaked

    heard, leaked = async_to_sync(scenario)()

    html = "".join(heard)
    assert f'<li id="conv-{conversation.pk}"' in html and f'data-label="{label.pk}"' in html
    assert leaked == []
