"""Files agents attach: checked, stored through Django's storage API, and linked for the Hub.

The Hub takes media by URL only (docs/hub.md, Content types), so an attachment is stored first
(`STORAGES["default"]`: the disk under MEDIA_ROOT, or an S3-compatible bucket) and the reply carries a
link of ours under PUBLIC_BASE_URL (`signed_url`): unguessable (signed with `django.core.signing`),
valid for UPLOAD_URL_MAX_AGE, served without a session (conversations/views/media.py) with the type
read from the file. Stored-first holds as for replies: the upload is committed before the reply row, so
a crash between the two loses neither; the upload without a reply is then pruned (`do_prune_orphan_uploads`).

What a file is, is read from its bytes (the `filetype` package), never from its name: a PDF called
photo.png is refused, as is a type or a size the channel does not take (capabilities.py).
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import IO, Any
from urllib.parse import quote

import filetype  # type: ignore[import-untyped]  # no types, no stubs package
from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from channels_app.hub.capabilities import CONTENT_TYPE_LABELS, MEDIA_MIME_TYPES, capability
from channels_app.hub.message_content import ContentError
from conversations.models import Conversation, Upload

log = logging.getLogger(__name__)

SIGNING_SALT = "hubdash.upload"
SNIFF_BYTES = 8192
MAX_FILENAME = 200

# The extensions a file of each sniffed type may be named with (the name must agree with the bytes).
_EXTENSIONS: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"jpg", "jpeg", "jpe"}),
    "image/png": frozenset({"png"}),
    "image/webp": frozenset({"webp"}),
    "video/mp4": frozenset({"mp4", "m4v"}),
    "video/3gpp": frozenset({"3gp", "3gpp"}),
    "audio/mpeg": frozenset({"mp3"}),
    "audio/ogg": frozenset({"ogg", "oga", "opus"}),
    "audio/aac": frozenset({"aac"}),
    "audio/mp4": frozenset({"m4a", "mp4"}),
    "audio/x-m4a": frozenset({"m4a"}),
    "audio/amr": frozenset({"amr"}),
    "application/pdf": frozenset({"pdf"}),
    "text/plain": frozenset({"txt"}),
    "text/csv": frozenset({"csv"}),
    "application/zip": frozenset({"zip"}),
    "application/msword": frozenset({"doc"}),
    "application/vnd.ms-excel": frozenset({"xls"}),
    "application/vnd.ms-powerpoint": frozenset({"ppt"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({"docx"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({"xlsx"}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": frozenset({"pptx"}),
}
# Plain text has no signature to sniff: a .txt or .csv whose start is UTF-8 without NUL bytes is text.
_TEXT_TYPES = {"txt": "text/plain", "csv": "text/csv"}


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def sniff(head: bytes, filename: str) -> str:
    """The file's type read from its first bytes, checked against its name's extension; ContentError."""
    extension = _extension(filename)
    guess = filetype.guess(head)
    if guess is not None:
        mime = "audio/mp4" if guess.mime == "video/mp4" and extension == "m4a" else guess.mime
    elif extension in _TEXT_TYPES and _is_text(head):
        mime = _TEXT_TYPES[extension]
    else:
        mime = ""
    if mime not in _EXTENSIONS:
        raise ContentError(_("“%(name)s”: this kind of file can't be sent.") % {"name": filename})
    if extension not in _EXTENSIONS[mime]:
        raise ContentError(
            _("“%(name)s” is not what its name says: its content is %(type)s.")
            % {"name": filename, "type": mime}
        )
    return mime


def media_kind_of(mime: str) -> str:
    for kind, types in MEDIA_MIME_TYPES.items():
        if mime in types:
            return kind
    return "document"


def clean_filename(name: str) -> str:
    """The name as shown and sent (inert text: escaped wherever it is drawn); ContentError if unusable."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if not name or name in (".", ".."):
        raise ContentError(_("The file has no name."))
    if "/" in name or "\\" in name or any(unicodedata.category(c).startswith("C") for c in name):
        raise ContentError(_("A file name can't contain path separators or control characters."))
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot else name[:MAX_FILENAME]
    return name


def check_upload(*, channel_kind: str, filename: str, size: int, head: bytes) -> tuple[str, str]:
    """(mime, media kind) of a file the channel takes, or ContentError saying why not."""
    if size == 0:
        raise ContentError(_("“%(name)s” is empty.") % {"name": filename})
    mime = sniff(head, filename)
    kind = media_kind_of(mime)
    cap = capability(channel_kind)
    if kind not in cap.content_types:
        label = CONTENT_TYPE_LABELS.get(kind, kind)
        raise ContentError(
            _("%(what)s can't be sent on %(channel)s.") % {"what": label, "channel": cap.label}
        )
    limit = cap.media_limit(kind)
    if size > limit:
        raise ContentError(
            _("“%(name)s” is %(size)s; %(channel)s takes files of this kind up to %(limit)s.")
            % {"name": filename, "size": _mb(size), "channel": cap.label, "limit": _mb(limit)}
        )
    return mime, kind


def do_store_upload(*, conversation: Conversation, uploaded_by: Any, file: Any) -> Upload:
    """Check `file` (a Django UploadedFile) against the conversation's channel, store it, record it.

    Committed before any reply uses it. Raises ContentError (nothing stored) when the channel cannot
    take it."""
    filename = clean_filename(getattr(file, "name", "") or "")
    size = int(file.size or 0)
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    mime, kind = check_upload(channel_kind=conversation.channel.kind, filename=filename, size=size, head=head)
    extension = _extension(filename)
    # A random name: the stored path reveals nothing and never collides; the agent's name is a column.
    wanted = f"uploads/{timezone.now():%Y/%m}/{secrets.token_urlsafe(18)}.{extension}"
    stored = default_storage.save(wanted, file)
    try:
        with transaction.atomic():
            return Upload.objects.create(
                conversation=conversation,
                uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
                storage_name=stored,
                filename=filename,
                content_type=mime,
                media_kind=kind,
                size=size,
            )
    except BaseException:
        default_storage.delete(stored)
        raise


def do_discard_upload(*, upload: Upload) -> None:
    """Delete an upload no reply uses (its reply was refused): the file, then the row."""
    if Upload.objects.filter(pk=upload.pk, message__isnull=True).delete()[0]:
        default_storage.delete(upload.storage_name)


def signed_url(upload: Upload) -> str:
    """The link the Hub fetches the file from: signed, expiring, with the file's name at the end."""
    token = signing.dumps(upload.pk, salt=SIGNING_SALT, compress=True)
    name = get_valid_filename(upload.filename) or "file"
    return f"{settings.PUBLIC_BASE_URL}/media/{token}/{quote(name)}"


def upload_for_token(token: str) -> Upload | None:
    """The upload a link names, if its signature holds and it has not expired; else None."""
    try:
        upload_id = signing.loads(token, salt=SIGNING_SALT, max_age=settings.UPLOAD_URL_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(upload_id, int):
        return None
    return Upload.objects.filter(pk=upload_id).first()


def open_upload(upload: Upload) -> IO[bytes]:
    return default_storage.open(upload.storage_name, "rb")


def do_prune_orphan_uploads(*, now: datetime | None = None) -> int:
    """Delete uploads no reply took within UPLOAD_ORPHAN_HOURS (file and row). Returns how many."""
    before = (now or timezone.now()) - timedelta(hours=settings.UPLOAD_ORPHAN_HOURS)
    pruned = 0
    for upload in Upload.objects.filter(message__isnull=True, created_at__lt=before).order_by("pk")[:500]:
        with transaction.atomic():
            # Again under the row's lock: a reply may have taken it meanwhile.
            locked = Upload.objects.select_for_update().filter(pk=upload.pk, message__isnull=True).first()
            if locked is None:
                continue
            locked.delete()
        try:
            default_storage.delete(upload.storage_name)
        except OSError:
            log.warning("could not delete the file of pruned upload %s", upload.pk, exc_info=True)
        pruned += 1
    return pruned
