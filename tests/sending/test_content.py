"""The outbound content adapter: one reply, built per channel and checked before anything is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from channels_app.hub.content import (
    ContentError,
    build_reply_content,
    check_content,
    check_recipient,
    check_window,
    window_closes_at,
)

KINDS = ["whatsapp", "instagram", "messenger", "telegram", "sms", "webchatt"]


@pytest.mark.parametrize("kind", KINDS)
def test_plain_text_is_the_text_field_on_every_channel(kind):
    assert build_reply_content(channel_kind=kind, text="Olá! Seu pedido saiu.") == {
        "text": "Olá! Seu pedido saiu."
    }


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_reply_is_refused_with_a_reason(kind):
    with pytest.raises(ContentError, match="empty"):
        build_reply_content(channel_kind=kind, text="   ")


@pytest.mark.parametrize(("kind", "limit"), [("sms", 1600), ("instagram", 1000), ("messenger", 2000)])
def test_text_longer_than_the_channel_allows_says_the_limit(kind, limit):
    assert build_reply_content(channel_kind=kind, text="x" * limit)
    with pytest.raises(ContentError, match=f"allows at most {limit}"):
        build_reply_content(channel_kind=kind, text="x" * (limit + 1))


def test_an_image_goes_by_url_with_its_caption():
    content = build_reply_content(
        channel_kind="whatsapp", media_url="https://cdn.example.org/p/1.png", caption="Your receipt"
    )
    assert content == {"imageUrl": "https://cdn.example.org/p/1.png", "text": "Your receipt"}


def test_the_media_type_is_guessed_from_the_link_when_not_given():
    assert build_reply_content(channel_kind="telegram", media_url="https://x.example/a/b.mp4") == {
        "videoUrl": "https://x.example/a/b.mp4"
    }
    assert "documentUrl" in build_reply_content(channel_kind="telegram", media_url="https://x.example/f.pdf")


@pytest.mark.parametrize("url", ["ftp://x.example/a.png", "/media/a.png", "data:image/png;base64,AAAA", ""])
def test_media_must_be_a_public_http_link(url):
    with pytest.raises(ContentError):
        build_reply_content(channel_kind="whatsapp", media_url=url or " ", media_type="image")


def test_sms_sends_an_image_as_mms_but_no_video_or_document():
    assert build_reply_content(channel_kind="sms", media_url="https://x.example/a.jpg", caption="hi") == {
        "imageUrl": "https://x.example/a.jpg",
        "text": "hi",
    }
    with pytest.raises(ContentError, match="Videos can't be sent on SMS"):
        build_reply_content(channel_kind="sms", media_url="https://x.example/a.mp4")
    with pytest.raises(ContentError, match="Documents can't be sent on SMS"):
        build_reply_content(channel_kind="sms", media_url="https://x.example/a.pdf")


def test_documents_are_not_available_on_instagram_and_messenger():
    for kind in ("instagram", "messenger"):
        with pytest.raises(ContentError, match="Documents can't be sent"):
            build_reply_content(channel_kind=kind, media_url="https://x.example/a.pdf", media_type="document")


def test_audio_takes_no_caption_and_voice_notes_are_whatsapp_only():
    url = "https://x.example/note.ogg"
    assert build_reply_content(channel_kind="whatsapp", media_url=url, media_type="audio", voice=True) == {
        "audioUrl": url,
        "voice": True,
    }
    with pytest.raises(ContentError, match="caption"):
        build_reply_content(channel_kind="whatsapp", media_url=url, media_type="audio", caption="listen")
    with pytest.raises(ContentError, match="WhatsApp-only"):
        build_reply_content(channel_kind="telegram", media_url=url, media_type="audio", voice=True)


def test_a_template_is_whatsapp_only_with_its_body_parameters():
    content = build_reply_content(
        channel_kind="whatsapp", template_id="tpl-1", template_params=["Joana", "#A-7781"]
    )
    assert content == {
        "template": {
            "id": "tpl-1",
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Joana"}, {"type": "text", "text": "#A-7781"}],
                }
            ],
        }
    }
    for kind in ("instagram", "messenger", "telegram", "sms", "webchatt"):
        with pytest.raises(ContentError, match="Templates can't be sent"):
            build_reply_content(channel_kind=kind, template_id="tpl-1")


def test_a_location_needs_valid_coordinates_and_exists_where_the_channel_has_it():
    location = {"latitude": -22.9068, "longitude": -43.1729, "name": "Loja Centro"}
    assert build_reply_content(channel_kind="telegram", location=location) == {"location": location}
    with pytest.raises(ContentError, match="latitude"):
        build_reply_content(channel_kind="whatsapp", location={"latitude": 123, "longitude": 0})
    with pytest.raises(ContentError, match="Locations can't be sent on Instagram"):
        build_reply_content(channel_kind="instagram", location=location)


def test_a_reaction_names_the_message_and_the_emoji():
    assert build_reply_content(channel_kind="messenger", reaction={"message_id": "m_1", "emoji": "👍"}) == {
        "reaction": {"messageId": "m_1", "emoji": "👍"}
    }
    with pytest.raises(ContentError, match="Reactions can't be sent on SMS"):
        build_reply_content(channel_kind="sms", reaction={"messageId": "m_1", "emoji": "👍"})


def _buttons(*titles: str, header: bool = False) -> dict:
    interactive = {
        "type": "button",
        "body": {"text": "Choose a topic"},
        "action": {
            "buttons": [{"type": "reply", "reply": {"id": f"B{i}", "title": t}} for i, t in enumerate(titles)]
        },
    }
    if header:
        interactive["header"] = {"type": "text", "text": "Help"}
    return interactive


def test_reply_buttons_are_checked_against_the_channel_and_meta_limits():
    assert build_reply_content(channel_kind="whatsapp", interactive=_buttons("Billing", "Tech", header=True))
    with pytest.raises(ContentError, match="1 to 3"):
        build_reply_content(channel_kind="whatsapp", interactive=_buttons("a", "b", "c", "d"))
    with pytest.raises(ContentError, match="longer than 20"):
        build_reply_content(channel_kind="whatsapp", interactive=_buttons("A title far too long here"))
    with pytest.raises(ContentError, match=r"Reply buttons can.t be sent on Telegram.*option list"):
        build_reply_content(channel_kind="telegram", interactive=_buttons("Billing"))
    with pytest.raises(ContentError, match="Headers and footers only work on WhatsApp"):
        build_reply_content(channel_kind="instagram", interactive=_buttons("Billing", header=True))
    with pytest.raises(ContentError, match="Interactives can't be sent on SMS"):
        build_reply_content(channel_kind="sms", interactive=_buttons("Billing"))


def test_a_location_request_is_whatsapp_only():
    request = {
        "type": "location_request_message",
        "body": {"text": "Where are you?"},
        "action": {"name": "send_location"},
    }
    assert build_reply_content(channel_kind="whatsapp", interactive=request)
    with pytest.raises(ContentError, match="Location requests can't be sent on Web Chatt"):
        build_reply_content(channel_kind="webchatt", interactive=request)


def test_one_reply_carries_one_thing():
    with pytest.raises(ContentError, match="only one thing"):
        build_reply_content(
            channel_kind="whatsapp",
            media_url="https://x.example/a.png",
            location={"latitude": 1, "longitude": 1},
        )


def test_check_content_refuses_fields_the_hub_does_not_know():
    with pytest.raises(ContentError, match="image_url"):
        check_content("whatsapp", {"text": "hi", "image_url": "https://x.example/a.png"})


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("whatsapp", "5521987654321", "+5521987654321"),
        ("sms", "+14155550123", "14155550123"),
        ("telegram", "-100123", "@someone"),
    ],
)
def test_recipient_ids_must_fit_the_channel(kind, good, bad):
    check_recipient(kind, good)
    with pytest.raises(ContentError, match="not a valid"):
        check_recipient(kind, bad)


def test_service_windows_per_channel():
    wrote = timezone.now() - timedelta(hours=1)
    assert window_closes_at(wrote, "whatsapp") == wrote + timedelta(hours=24)
    assert window_closes_at(wrote, "instagram") == wrote + timedelta(days=7)
    assert window_closes_at(wrote, "telegram") is None
    assert window_closes_at(None, "messenger") is None


def test_whatsapp_outside_its_window_takes_only_templates():
    long_ago = timezone.now() - timedelta(hours=25)
    with pytest.raises(ContentError, match="24-hour window closed"):
        check_window(channel_kind="whatsapp", content={"text": "hi"}, last_inbound_at=long_ago)
    check_window(channel_kind="whatsapp", content={"template": {"id": "t"}}, last_inbound_at=long_ago)
    with pytest.raises(ContentError, match="never wrote"):
        check_window(channel_kind="whatsapp", content={"text": "hi"}, last_inbound_at=None)


def test_instagram_and_messenger_cannot_start_or_reopen_a_conversation():
    with pytest.raises(ContentError, match="can't start a conversation"):
        check_window(channel_kind="instagram", content={"text": "hi"}, last_inbound_at=None)
    with pytest.raises(ContentError, match="window closed"):
        check_window(
            channel_kind="messenger",
            content={"text": "hi"},
            last_inbound_at=timezone.now() - timedelta(days=2),
        )
    check_window(
        channel_kind="instagram", content={"text": "hi"}, last_inbound_at=timezone.now() - timedelta(days=2)
    )
    check_window(channel_kind="telegram", content={"text": "hi"}, last_inbound_at=None)


def test_a_refused_reply_is_explained_in_the_agents_language_and_time():
    """What the composer shows a Portuguese agent in São Paulo: the reason in Portuguese, the window's
    end in their own clock and format."""
    from django.utils import translation

    wrote = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    with translation.override("pt-br"), timezone.override("America/Sao_Paulo"):
        with pytest.raises(ContentError) as refused:
            check_window(channel_kind="whatsapp", content={"text": "oi"}, last_inbound_at=wrote)
        with pytest.raises(ContentError) as too_long:
            check_content("sms", {"text": "x" * 2000})
    assert str(refused.value) == (
        "A janela de 24 horas do WhatsApp fechou em 21/11/2026 12:30: só um modelo aprovado pode ser"
        " enviado até o cliente escrever de novo."
    )
    assert str(too_long.value).startswith("A mensagem tem 2000 caracteres; o SMS permite no máximo")
    # Control: the same refusal for an English agent in UTC.
    english = pytest.raises(ContentError, match=r"The WhatsApp 24-hour window closed at .*2026.*15:30")
    with translation.override("en"), timezone.override("UTC"), english:
        check_window(channel_kind="whatsapp", content={"text": "oi"}, last_inbound_at=wrote)
