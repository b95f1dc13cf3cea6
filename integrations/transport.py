"""The one HTTP client for outgoing webhooks (the Hub's is channels_app/hub/client.py; this is the
only other module that imports `requests`).

One POST per attempt, with a timeout, no redirects (a redirect could lead past the SSRF guard), the
URL checked again just before (DNS may have changed since it was saved) and at most 1 KB of the answer
read. Every outcome is a `PostResult`: 2xx is success, anything else a failure with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings

from integrations.signing import HEADER, sign
from integrations.urlguard import UnsafeUrl, check_url

USER_AGENT = "Hubdash-Webhooks/1"


@dataclass(frozen=True)
class PostResult:
    ok: bool
    http_status: int | None
    error: str


def post_event(*, url: str, secret: str, body: str, event: str, event_id: str) -> PostResult:
    data = body.encode()
    try:
        check_url(url, require_resolvable=True)
    except UnsafeUrl as refused:
        return PostResult(ok=False, http_status=None, error=str(refused))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Hubdash-Event": event,
        "Hubdash-Delivery": event_id,
        HEADER: sign(secret, data),
    }
    try:
        with requests.post(
            url,
            data=data,
            headers=headers,
            timeout=float(settings.OUTGOING_WEBHOOK_TIMEOUT),
            allow_redirects=False,
            stream=True,
        ) as response:
            excerpt = response.raw.read(1024, decode_content=False) if response.raw else b""
            if 200 <= response.status_code < 300:
                return PostResult(ok=True, http_status=response.status_code, error="")
            text = excerpt.decode("utf-8", errors="replace").strip()[:300]
            return PostResult(
                ok=False,
                http_status=response.status_code,
                error=f"HTTP {response.status_code}" + (f": {text}" if text else ""),
            )
    except requests.Timeout:
        return PostResult(ok=False, http_status=None, error="timeout")
    except requests.RequestException as exc:
        return PostResult(ok=False, http_status=None, error=f"connection failed: {type(exc).__name__}")
