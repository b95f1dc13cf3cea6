"""Attachments served to the Hub (and whoever it hands the link to): no session, a signed expiring link.

The link is made by `actions.uploads.signed_url`; an expired, tampered or unknown one is a plain 404,
the same for every case, so nothing about other uploads can be learnt from it.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from conversations.actions.uploads import open_upload, upload_for_token


@require_safe
def signed_media(request: HttpRequest, token: str, name: str) -> FileResponse:
    upload = upload_for_token(token)
    if upload is None:
        raise Http404("No such file.")
    try:
        handle = open_upload(upload)
    except (OSError, FileNotFoundError):
        raise Http404("No such file.") from None
    # Inline for media (the channel shows it), with the type read from the bytes when it was stored;
    # nosniff so a browser never takes it for anything else.
    response = FileResponse(
        handle,
        content_type=upload.content_type,
        as_attachment=upload.media_kind == "document"
        and not upload.content_type.startswith("application/pdf"),
        filename=upload.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
