"""The inbox and thread pages, as an agent's browser receives them (Django test client)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from channels_app.actions.preferences import do_update_preferences
from conversations.models import Conversation, Message
from tests.conftest import PASSWORD, login
from tests.inbox.inbox_support import add_message, ago, make_conversation

pytestmark = pytest.mark.django_db


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li id="conv-(\d+)"', html)]


def test_signed_out_visitor_is_sent_to_the_sign_in_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_agent_signs_in_and_lands_on_the_inbox(client, agent_a, app_a):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"
    assert b'id="inbox-list"' in response.content
    assert b"Acme Support" in response.content


def test_sign_out_and_password_change_pages_work(agent_a_client):
    assert agent_a_client.get(reverse("password_change")).status_code == 200
    response = agent_a_client.post(reverse("logout"))

    assert response.status_code == 302
    assert agent_a_client.get("/").status_code == 302


def test_inbox_lists_conversations_by_latest_activity(agent_a_client, app_a):
    older = make_conversation(app_a, name="Older Olga", at=ago(hours=2))
    newest = make_conversation(app_a, name="Newest Nina", at=ago(minutes=1))
    middle = make_conversation(app_a, kind="sms", name="Middle Mo", at=ago(hours=1))

    html = agent_a_client.get("/").content.decode()

    assert row_ids(html) == [newest.pk, middle.pk, older.pk]


def test_a_row_shows_contact_channel_preview_badge_status_and_assignee(agent_a_client, app_a, agent_a):
    conversation = make_conversation(
        app_a, kind="telegram", name="Joana Lima", text="Where is my order?", unread=3, assignee=agent_a
    )

    html = agent_a_client.get("/").content.decode()
    row = html[html.index(f'id="conv-{conversation.pk}"') :]
    row = row[: row.index("</li>")]

    assert "Joana Lima" in row
    assert 'aria-label="Telegram"' in row
    assert "Where is my order?" in row
    assert 'aria-label="3 unread"' in row
    assert 'data-status="open"' in row
    assert "Mine" in row


def test_a_contact_without_a_name_shows_its_id(agent_a_client, app_a):
    make_conversation(app_a, external_id="5521999990000", name="")

    assert "5521999990000" in agent_a_client.get("/").content.decode()


def test_opening_a_thread_shows_bubbles_and_marks_it_read(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a, name="Joana", text="Oi", unread=2)
    reply = add_message(
        conversation,
        content={"text": "Olá Joana"},
        direction=Message.Direction.OUTBOUND,
        status="delivered",
        author=agent_a,
    )

    response = agent_a_client.get(reverse("conversation", args=[conversation.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert 'id="thread"' in html
    assert f'id="msg-{reply.pk}"' in html
    assert 'data-direction="out" data-status="delivered"' in html
    assert "Alice Agent" in html  # the agent's name on their bubble
    assert 'aria-label="Delivered"' in html
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_thread_region_alone_is_returned_to_htmx(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    response = agent_a_client.get(
        reverse("conversation", args=[conversation.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="thread-pane"
    )
    html = response.content.decode()

    assert html.lstrip().startswith('<div id="thread"')
    assert "<html" not in html


def test_failed_reply_shows_the_reason_and_a_retry_button(agent_a_client, app_a, agent_a):
    conversation = make_conversation(app_a)
    add_message(
        conversation,
        content={"text": "Are you there?"},
        direction=Message.Direction.OUTBOUND,
        status="failed",
        author=agent_a,
        error_message="Recipient is not a WhatsApp user",
        error_code="131026",
    )

    html = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert "Recipient is not a WhatsApp user" in html
    assert "131026" in html
    assert 'data-action="retry"' in html


def test_status_timeline_lists_every_report(agent_a_client, app_a, agent_a):
    from conversations.actions.statuses import do_record_status, do_store_send_result

    conversation = make_conversation(app_a)
    reply = add_message(
        conversation, content={"text": "Hi"}, direction=Message.Direction.OUTBOUND, author=agent_a
    )
    do_store_send_result(message=reply, hub_message_id="wamid.1", status="enqueued")
    do_record_status(application_id=app_a.pk, hub_message_id="wamid.1", status="delivered")

    html = agent_a_client.get(reverse("message_timeline", args=[conversation.pk, reply.pk])).content.decode()

    assert "Queued at the Hub" in html
    assert "Delivered" in html
    assert "wamid.1" in html


def test_whatsapp_thread_outside_the_window_disables_free_text_and_offers_a_template(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(hours=30))

    html = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert 'data-open="false"' in html
    assert re.search(r'<fieldset id="composer-fields"[^>]* disabled', html)
    assert re.search(r'<form id="template-form"(?![^>]* hidden)', html)
    assert "Send an approved template instead" in html


def test_whatsapp_thread_inside_the_window_counts_down(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(hours=1))

    html = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert 'data-open="true"' in html
    assert not re.search(r'<fieldset id="composer-fields"[^>]* disabled', html)
    assert re.search(r'<form id="template-form"[^>]* hidden', html)
    assert "left to reply freely" in html


def test_telegram_thread_has_no_window_and_no_template_form(agent_a_client, app_a):
    conversation = make_conversation(app_a, kind="telegram", at=ago(days=30))

    html = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert 'id="template-form"' not in html
    assert not re.search(r'<fieldset id="composer-fields"[^>]* disabled', html)


def test_inbox_page_carries_the_markup_contract(agent_a_client, app_a):
    conversation = make_conversation(app_a)

    html = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    for marker in (
        'id="inbox-list"',
        f'data-conversation-id="{conversation.pk}"',
        'id="thread"',
        "data-message-id=",
        '<form id="composer"',
        'name="text"',
        'id="connection-state"',
        'ws-connect="/ws/inbox/"',
        "htmx-ext-ws-2.0.4.js",
        "js/inbox.js",
    ):
        assert marker in html, marker


def test_resolved_conversation_offers_reopen(agent_a_client, app_a):
    conversation = make_conversation(app_a, status=Conversation.Status.RESOLVED)

    html = agent_a_client.get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert 'data-action="reopen"' in html
    assert 'data-action="resolve"' not in html


@pytest.mark.django_db
def test_list_previews_and_channels_show_sprite_icons_not_emoji(agent_a, app_a) -> None:
    photo = make_conversation(app_a, name="Photo sender", kind="telegram", text=None)
    message = add_message(photo, content={"type": "image", "image": {"url": "https://cdn.example/p.jpg"}})
    photo.last_message = message
    photo.save(update_fields=["last_message"])
    place = make_conversation(app_a, name="Place sender", text=None)
    message = add_message(place, content={"type": "location", "location": {"latitude": 1, "longitude": 2}})
    place.last_message = message
    place.save(update_fields=["last_message"])

    body = login(agent_a).get("/").content.decode()

    assert 'icons.svg#i-image"/></svg> Photo' in body
    assert 'icons.svg#i-location"/></svg> Location' in body
    assert 'icons.svg#i-telegram"' in body and 'aria-label="Telegram"' in body
    for glyph in ("📷", "🎤", "📄", "📍", "👤", "📝", "💳", "📎", "☑", "🎬"):
        assert glyph not in body
    # The same rows for a Portuguese agent name the types in Portuguese.
    do_update_preferences(actor=agent_a, language="pt-br", time_zone="America/Sao_Paulo")
    portuguese = login(agent_a).get("/").content.decode()
    assert "</svg> Foto" in portuguese and "</svg> Localização" in portuguese


def test_the_icon_sprite_has_every_symbol_the_templates_use() -> None:
    from pathlib import Path

    from django.conf import settings

    from channels_app.hub.capabilities import ChannelKind
    from conversations.templatetags.inbox import _PREVIEW_ICONS, _PREVIEW_LABELS

    sprite = (Path(settings.BASE_DIR) / "static" / "icons.svg").read_text()
    symbols = set(re.findall(r'<symbol id="([^"]+)"', sprite))
    needed = {f"i-{kind.value}" for kind in ChannelKind} | {f"i-{kind}" for kind in _PREVIEW_LABELS}
    needed |= set(_PREVIEW_ICONS.values()) | {"i-answer"}  # and the chosen option's tick
    assert needed <= symbols, needed - symbols


@pytest.mark.django_db
def test_the_page_title_names_the_open_threads_contact(agent_a, app_a) -> None:
    conversation = make_conversation(app_a, name="Joana Silva")
    body = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "<title>Joana Silva · Inbox · Hubdash</title>" in body
    assert "<title>Inbox · Hubdash</title>" in login(agent_a).get("/").content.decode()
