"""Previews stored before the SVG icons began with an emoji: migration 0014 strips it from the stored
preview (what rows, notifications, search and the API read) and from a quote's copy of it."""

import importlib

import pytest
from django.apps import apps

from conversations.models import Message
from tests.conftest import login
from tests.inbox.inbox_support import add_message, make_conversation

pytestmark = pytest.mark.django_db

migration = importlib.import_module("conversations.migrations.0014_previews_without_emoji")


def test_old_emoji_previews_read_like_new_ones(app_a, agent_a):
    conversation = make_conversation(app_a, name="Old customer", text=None)
    photo = add_message(
        conversation, content={"type": "image", "image": {"url": "https://cdn.example/p.jpg"}}
    )
    answer = add_message(conversation, content={"type": "text", "text": "Sim"})
    Message.objects.filter(pk=photo.pk).update(preview="📷 Photo")
    Message.objects.filter(pk=answer.pk).update(
        preview="☑ Sim", quote={"id": "hub-1", "direction": "in", "preview": "📍 Location: Rua A"}
    )
    untouched = add_message(conversation, content={"type": "text", "text": "📷 is how I say photo"})
    Message.objects.filter(pk=untouched.pk).update(preview="📷is how I say photo")  # no space: not ours

    migration.forwards(apps, None)

    photo.refresh_from_db()
    answer.refresh_from_db()
    untouched.refresh_from_db()
    assert photo.preview == "Photo"
    assert (answer.preview, answer.quote["preview"]) == ("Sim", "Location: Rua A")
    assert answer.quote["id"] == "hub-1"
    assert untouched.preview == "📷is how I say photo"
    # The thread shows the quote without the box-drawing glyph.
    body = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Location: Rua A" in body and "📍" not in body
