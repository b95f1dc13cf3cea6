"""Bulk labelling from the inbox's action bar: each selected conversation is labelled through the
single-conversation action (activity line, audit entry, live row), and only with its own Application's
labels; another tenant's conversations and labels stay unknown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_app.models import AuditEntry, Membership
from conversations.models import Conversation, Label, Message
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db

RED = Label.COLOURS[0][0]


def labels_on(conversation: Conversation) -> list[str]:
    return sorted(conversation.labels.values_list("name", flat=True))


def activity_verbs(conversation: Conversation) -> list[str]:
    items = Message.objects.filter(conversation=conversation, direction="activity").order_by("id")
    return [m.content["activity"]["verb"] for m in items]


def bulk(client, **data):
    return client.post(
        reverse("bulk_action"), data, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/"
    )


def test_the_bulk_bar_offers_the_visible_applications_labels_only(agent_a_client, app_a, app_b):
    mine = Label.objects.create(application=app_a, name="VIP", colour=RED)
    theirs = Label.objects.create(application=app_b, name="Secret-B", colour=RED)
    make_conversation(app_a)

    page = agent_a_client.get("/").content.decode()

    assert f'<option value="{mine.pk}">VIP</option>' in page
    assert 'value="label_add"' in page and 'value="label_remove"' in page
    assert "Secret-B" not in page and f'<option value="{theirs.pk}"' not in page


def test_bulk_add_label_labels_each_with_an_activity_line_an_audit_entry_and_its_row(
    agent_a_client, agent_a, app_a
):
    vip = Label.objects.create(application=app_a, name="VIP", colour=RED)
    chosen = [make_conversation(app_a) for _ in range(2)]
    already = make_conversation(app_a)
    already.labels.add(vip)
    untouched = make_conversation(app_a)

    response = bulk(
        agent_a_client, action="label_add", label=vip.pk, ids=[*(c.pk for c in chosen), already.pk]
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Done for 3 conversations." in html
    for conversation in chosen:
        assert labels_on(conversation) == ["VIP"]
        assert activity_verbs(conversation) == ["label_added"]
        assert f'id="conv-{conversation.pk}"' in html  # the row redrawn, with its chip
    assert activity_verbs(already) == []  # nothing changed: no second line
    assert labels_on(untouched) == []
    entries = AuditEntry.objects.filter(action="conversation.bulk_label_add")
    assert sorted(int(e.target_id) for e in entries) == sorted([*(c.pk for c in chosen), already.pk])
    assert entries.filter(target_id=str(chosen[0].pk)).get().changes["label"] == {"from": None, "to": "VIP"}
    assert entries.filter(target_id=str(already.pk)).get().changes["label"] == {"from": "VIP", "to": "VIP"}


def test_bulk_remove_label_takes_it_off(agent_a_client, app_a):
    vip = Label.objects.create(application=app_a, name="VIP", colour=RED)
    other = Label.objects.create(application=app_a, name="Late", colour=RED)
    chosen = [make_conversation(app_a) for _ in range(2)]
    for conversation in chosen:
        conversation.labels.add(vip, other)

    response = bulk(agent_a_client, action="label_remove", label=vip.pk, ids=[c.pk for c in chosen])

    assert response.status_code == 200
    assert "Done for 2 conversations." in response.content.decode()
    assert [labels_on(c) for c in chosen] == [["Late"], ["Late"]]
    assert [activity_verbs(c) for c in chosen] == [["label_removed"], ["label_removed"]]


def test_a_label_goes_only_on_its_own_applications_conversations(agent_a_client, agent_a, app_a, app_b):
    """An agent of both Applications: app B's conversation is refused, as the other bulk actions say."""
    Membership.objects.create(user=agent_a, application=app_b, role=Membership.Role.AGENT)
    vip = Label.objects.create(application=app_a, name="VIP", colour=RED)
    mine, other_app = make_conversation(app_a), make_conversation(app_b)

    html = bulk(
        agent_a_client, action="label_add", label=vip.pk, ids=[mine.pk, other_app.pk]
    ).content.decode()

    assert "Done for 1 conversation. 1 refused: That label belongs to another Application." in html
    assert labels_on(mine) == ["VIP"]
    assert labels_on(other_app) == [] and activity_verbs(other_app) == []


def test_another_tenants_conversations_are_not_found_and_left_alone(agent_a_client, app_a, app_b):
    vip = Label.objects.create(application=app_a, name="VIP", colour=RED)
    mine, theirs = make_conversation(app_a), make_conversation(app_b)

    html = bulk(agent_a_client, action="label_add", label=vip.pk, ids=[mine.pk, theirs.pk]).content.decode()

    assert "Done for 1 conversation. 1 not found." in html
    assert f"conv-{theirs.pk}" not in html
    assert labels_on(theirs) == []
    assert not AuditEntry.objects.filter(target_type="conversation", target_id=str(theirs.pk)).exists()


@pytest.mark.parametrize("label", ["", "abc", "999999", "theirs"])
def test_another_tenants_label_or_none_is_refused_and_nothing_changes(agent_b_client, app_a, app_b, label):
    theirs = Label.objects.create(application=app_a, name="VIP", colour=RED)
    conversation = make_conversation(app_b)
    value = theirs.pk if label == "theirs" else label

    response = bulk(agent_b_client, action="label_add", label=value, ids=[conversation.pk])

    assert response.status_code == 422
    assert "Choose a label." in response.content.decode()
    assert labels_on(conversation) == [] and activity_verbs(conversation) == []
    assert not AuditEntry.objects.exists()
