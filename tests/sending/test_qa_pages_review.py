"""The delivery review names a photo as the inbox does, in the reader's language, on the page, on a
reply's page and in the CSV; a reply's status history says where each status came from in words."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from channels_app.actions.preferences import do_update_preferences
from conversations.models import Message, MessageStatusChange
from tests.conftest import login
from tests.sending.conftest import make_conversation
from tests.sending.test_review import reply


def _client(user, language: str = "pt-br"):
    do_update_preferences(actor=user, language=language, time_zone="America/Sao_Paulo")
    return login(user)


@pytest.fixture
def photo(app_a, agent_a) -> Message:
    message = reply(make_conversation(app_a, "whatsapp"), author=agent_a)
    # As stored by sending: the preview is English, written once; the content says what it is.
    Message.objects.filter(pk=message.pk).update(
        content={"imageUrl": "https://cdn.example.org/p/1.png", "text": "caption png"},
        preview="Photo: caption png",
    )
    message.refresh_from_db()
    return message


@pytest.mark.django_db
def test_the_review_table_names_a_photo_in_the_readers_language(admin, photo) -> None:
    page = _client(admin).get("/review/").content.decode()
    assert "Foto: caption png" in page
    assert "Photo" not in page


@pytest.mark.django_db
def test_a_replys_review_page_names_a_photo_in_the_readers_language(admin, photo) -> None:
    page = _client(admin).get(f"/review/messages/{photo.pk}/").content.decode()
    assert '<dd class="preview">Foto: caption png</dd>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"), [("pt-br", "Foto: caption png"), ("en", "Photo: caption png")]
)
def test_the_csv_names_a_photo_in_the_readers_language(admin, photo, language, expected) -> None:
    response = _client(admin, language).get("/review/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows[str(photo.pk)]["preview"] == expected


def _changes(message: Message) -> None:
    for source, status in [("send", "sent"), ("webhook", "delivered")]:
        MessageStatusChange.objects.create(
            application_id=message.channel.application_id,
            message=message,
            status=status,
            occurred_at=message.created_at,
            applied=True,
            source=source,
        )


@pytest.mark.django_db
def test_a_replys_status_history_says_where_each_status_came_from(agent_a, photo) -> None:
    _changes(photo)
    url = reverse("message_timeline", args=[photo.conversation_id, photo.pk])
    page = _client(agent_a).get(url).content.decode()
    assert "(resposta do envio)" in page
    assert "(webhook do Hub)" in page
    assert "(send)" not in page and "(webhook)" not in page


@pytest.mark.django_db
def test_the_review_timeline_says_where_each_status_came_from(admin, photo) -> None:
    _changes(photo)
    page = _client(admin).get(f"/review/messages/{photo.pk}/").content.decode()
    assert "resposta do envio" in page
    assert "webhook do Hub" in page
    assert "de send" not in page and "de webhook" not in page
