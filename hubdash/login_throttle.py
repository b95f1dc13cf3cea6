"""Login throttling: django-axes, told who the client is and how to count, with our own lockout page.

Axes counts failures under AXES_LOCKOUT_PARAMETERS and compares the largest count with one limit. We want
two limits (one username from one address, and one address over all usernames), so the handler scales the
per-address count onto the first limit.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """The client's address: the TCP peer, or behind TRUSTED_PROXY_COUNT proxies the address the outermost
    of them saw. Each proxy appends its peer to X-Forwarded-For, so only the last N entries are theirs;
    anything to the left of them the client may have written itself."""
    peer = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    # Fewer entries than proxies: a request that did not come through all of them; the peer is all we know.
    return forwarded[-count] if len(forwarded) >= count else peer


class LoginThrottleHandler(AxesDatabaseHandler):
    """AXES_LOCKOUT_PARAMETERS is [[username, ip_address], ip_address]: LOGIN_FAILURE_LIMIT for the pair,
    LOGIN_FAILURE_LIMIT_PER_IP for the address."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        # Axes locks at count >= AXES_FAILURE_LIMIT (LOGIN_FAILURE_LIMIT): the scaled address count gets
        # there exactly when the address reaches its own limit.
        scaled = address * settings.AXES_FAILURE_LIMIT // max(settings.LOGIN_FAILURE_LIMIT_PER_IP, 1)
        return max(pair, scaled)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # On success, forget only this username's failures from this address: someone who knows one
        # password must not wipe the address's count for every other account.
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair.delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The page a locked-out sign-in gets (the same for /accounts/login/ and /admin/login/)."""
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": settings.LOGIN_LOCKOUT_MINUTES},
        status=429,
    )
