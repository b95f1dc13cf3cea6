"""The sandbox fetches the media URL of every message it is asked to send, as the real Hub must.

The Hub takes media by URL only (§3.3): it (or the provider behind it) downloads the file, so a link
it cannot fetch fails the send. The sandbox does the same and refuses such a send with a 400
(`media_unreachable`); what it fetched (status, type, size, SHA-256) is kept on the send, so a test can
check that the link served exactly the file an agent attached.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from typing import Any

MEDIA_KEYS = ("imageUrl", "videoUrl", "audioUrl", "documentUrl", "stickerUrl")
MAX_BYTES = 110 * 1024 * 1024  # above every provider's limit: a larger file fails like a dead link
_CHUNK = 64 * 1024

# No proxy from the environment: the sandbox fetches what the URL says, like the Hub would.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MediaUnreachable(Exception):
    pass


def media_url(content: dict[str, Any]) -> tuple[str, str] | None:
    """(content key, URL) of a send's media link, or None for a message without one."""
    for key in MEDIA_KEYS:
        value = content.get(key)
        if isinstance(value, str):
            return key, value
    return None


def fetch(url: str, *, timeout: float) -> dict[str, Any]:
    """GET `url` and describe what came back; MediaUnreachable when it is not a file we could send."""
    request = urllib.request.Request(url, headers={"User-Agent": "hubsandbox-media-fetch/1"})
    digest = hashlib.sha256()
    size = 0
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
            content_type = response.headers.get("Content-Type", "")
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise MediaUnreachable(f"the file at {url} is larger than {MAX_BYTES} bytes")
                digest.update(chunk)
    except urllib.error.HTTPError as exc:
        raise MediaUnreachable(f"fetching {url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise MediaUnreachable(f"could not fetch {url}: {exc}") from exc
    if size == 0:
        raise MediaUnreachable(f"the file at {url} is empty")
    return {
        "url": url,
        "status": status,
        "contentType": content_type,
        "size": size,
        "sha256": digest.hexdigest(),
    }
