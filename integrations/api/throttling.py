"""Per-token throttling: each API token (a session: each user; no credentials: each address) gets
API_THROTTLE_RATE requests. A refused request gets 429 with `Retry-After` (integrations/api/errors.py)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from integrations.models import ApiToken

log = logging.getLogger(__name__)


def client_address(request: Request) -> str:
    """The client's address as the sign-in throttle reads it (hubdash/login_throttle.py): the TCP peer,
    or behind TRUSTED_PROXY_COUNT proxies the address the outermost one saw. DRF's own `get_ident` would
    believe a client-written X-Forwarded-For, which would let a client pick a fresh bucket per request."""
    peer = str(request.META.get("REMOTE_ADDR", ""))
    count = int(settings.TRUSTED_PROXY_COUNT)
    if count <= 0:
        return peer
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-count] if len(forwarded) >= count else peer


class PerTokenThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        return str(settings.API_THROTTLE_RATE) or None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{client_address(request)}"
        return f"throttle:api:{ident}"

    def allow_request(self, request: Request, view: Any) -> bool:
        # The counters live in the cache (Redis in production): if it is down, serve rather than fail.
        try:
            return super().allow_request(request, view)
        except Exception:
            log.warning("API throttle unavailable: request allowed", exc_info=True)
            return True
