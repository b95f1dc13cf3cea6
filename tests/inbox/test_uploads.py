"""Files an agent attaches: checked by their bytes, stored first, linked to the Hub by a signed URL."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conversations.actions.housekeeping import do_prune_history
from conversations.actions.uploads import signed_url
from conversations.models import Message, Upload
from tests.inbox.inbox_support import ago, make_conversation

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png(padding: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    image = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return image + b"\x00" * padding


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    return settings.MEDIA_ROOT


def post_file(
    client, conversation, name: str, data: bytes, content_type: str = "application/octet-stream", **extra
):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    fields = {"idempotency_key": f"up-{name}-{len(data)}", "file": upload, **extra}
    return client.post(reverse("reply", args=[conversation.pk]), fields, **HTMX)


def served(url: str):
    """GET a signed link as the Hub would: no session."""
    assert url.startswith("https://desk.example.com/media/")
    return Client().get(url.removeprefix("https://desk.example.com"))


def test_a_pdf_is_stored_first_and_the_hub_gets_a_link_serving_those_exact_bytes(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    response = post_file(agent_a_client, conversation, "Fatura março.pdf", PDF, text="Segue a fatura")

    assert response.status_code == 200, response.content
    reply = Message.objects.get(direction="out")
    upload = Upload.objects.get()
    assert upload.message == reply and upload.content_type == "application/pdf" and upload.size == len(PDF)
    assert reply.content["filename"] == "Fatura março.pdf" and reply.content["text"] == "Segue a fatura"
    link = served(reply.content["documentUrl"])
    assert link.status_code == 200
    assert b"".join(link.streaming_content) == PDF
    assert link["Content-Type"] == "application/pdf"
    assert link["X-Content-Type-Options"] == "nosniff"
    assert "Fatura" not in upload.storage_name  # the stored name is random


def test_an_image_becomes_an_image_reply(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    post_file(agent_a_client, conversation, "foto.PNG", png(), content_type="image/png")

    reply = Message.objects.get(direction="out")
    assert set(reply.content) == {"imageUrl"}
    assert served(reply.content["imageUrl"])["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("kind", "name", "data", "error"),
    [
        ("sms", "big.png", png(padding=5 * 1024 * 1024), "SMS takes files of this kind up to 5.0 MB"),
        ("sms", "invoice.pdf", PDF, "Documents can&#x27;t be sent on SMS."),
        ("whatsapp", "empty.pdf", b"", "“empty.pdf” is empty."),
        (
            "whatsapp",
            "photo.png",
            PDF,
            "“photo.png” is not what its name says: its content is application/pdf.",
        ),
        ("whatsapp", "notes.exe", b"MZ\x90\x00" + b"\x00" * 300, "this kind of file can&#x27;t be sent"),
    ],
    ids=["over-size", "type-refused", "empty", "content-mismatch", "unknown-type"],
)
def test_a_file_the_channel_cannot_take_is_refused_and_nothing_is_stored(
    agent_a_client, app_a, media_root, kind, name, data, error
):
    conversation = make_conversation(app_a, kind=kind, at=ago(minutes=5))

    response = post_file(agent_a_client, conversation, name, data)

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()
    assert not Upload.objects.exists()
    assert not any(p.is_file() for p in media_root.rglob("*")) if media_root.exists() else True


def test_path_separators_in_a_file_name_never_reach_the_name_used(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    post_file(agent_a_client, conversation, "..\\..\\etc/passwd.pdf", PDF)

    upload = Upload.objects.get()
    assert upload.filename == "passwd.pdf"  # Django's parser keeps the last part only
    assert "/" not in upload.storage_name.removeprefix("uploads/").split("/", 2)[-1]


def test_a_name_with_separators_or_control_characters_is_refused_when_given_directly():
    from channels_app.hub.message_content import ContentError
    from conversations.actions.uploads import clean_filename

    for name in ("a/b.pdf", "a\\b.pdf", "bell\x07.pdf", "..", ""):
        with pytest.raises(ContentError):
            clean_filename(name)
    assert clean_filename("<b>x</b>.pdf".replace("/", "")) == "<b>x<b>.pdf"


def test_html_in_a_file_name_is_inert_text(agent_a_client, app_a):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    response = post_file(agent_a_client, conversation, "<img src=x onerror=alert(1)>.pdf", PDF)

    html = response.content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html and "<img src=x" not in html


def test_a_reply_refused_after_the_upload_leaves_no_upload_behind(agent_a_client, app_a, media_root):
    conversation = make_conversation(app_a, at=ago(hours=30))  # WhatsApp's window is closed

    response = post_file(agent_a_client, conversation, "late.pdf", PDF)

    assert response.status_code == 422
    assert not Upload.objects.exists() and not Message.objects.filter(direction="out").exists()
    assert not any(p.is_file() for p in media_root.rglob("*"))


def test_an_expired_or_tampered_link_is_404(agent_a_client, app_a, settings):
    conversation = make_conversation(app_a, at=ago(minutes=5))
    post_file(agent_a_client, conversation, "a.pdf", PDF)
    url = Message.objects.get(direction="out").content["documentUrl"]
    token = url.split("/media/")[1].split("/")[0]

    assert served(url).status_code == 200  # the control
    assert served(url.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))).status_code == 404
    assert served(url.replace(token, "1")).status_code == 404
    settings.UPLOAD_URL_MAX_AGE = -1  # every link is older than that
    assert served(url).status_code == 404


def test_a_link_of_a_deleted_upload_is_404(app_a):
    conversation = make_conversation(app_a)
    default_storage.save("uploads/x.pdf", SimpleUploadedFile("x.pdf", PDF))
    upload = Upload.objects.create(
        conversation=conversation, storage_name="uploads/x.pdf", filename="x.pdf",
        content_type="application/pdf", media_kind="document", size=len(PDF),
    )  # fmt: skip
    url = signed_url(upload)
    upload.delete()

    assert served(url).status_code == 404


def test_housekeeping_prunes_uploads_no_reply_took(agent_a_client, app_a, media_root, settings):
    conversation = make_conversation(app_a, at=ago(minutes=5))
    post_file(agent_a_client, conversation, "used.pdf", PDF)
    used = Upload.objects.get()
    orphans = []
    for n in range(2):  # stored, then the process died before the reply
        name = default_storage.save(f"uploads/orphan{n}.pdf", SimpleUploadedFile("o.pdf", PDF))
        orphans.append(
            Upload.objects.create(
                conversation=conversation,
                storage_name=name,
                filename="o.pdf",
                content_type="application/pdf",
                media_kind="document",
                size=len(PDF),
            )
        )
    Upload.objects.filter(pk__in=[used.pk, orphans[0].pk]).update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    report = do_prune_history()

    assert report.orphan_uploads == 1
    assert set(Upload.objects.values_list("pk", flat=True)) == {used.pk, orphans[1].pk}
    assert not default_storage.exists(orphans[0].storage_name)
    assert default_storage.exists(used.storage_name) and default_storage.exists(orphans[1].storage_name)
