"""Response rules every page shares: what a browser may keep, and which pages exist at all."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin


class NoStoreForSignedInUsers(MiddlewareMixin):
    """A signed-in user's pages show customers' conversations: no browser or proxy cache keeps them, so the
    back button of a shared computer shows nothing after signing out. Static files never get here
    (WhiteNoise answers them earlier) and stay cacheable."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)  # Cache-Control: max-age=0, no-cache, no-store, …, private
        return response


def email_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The page exists only when email can be sent (EMAIL_URL): a password-reset form that sends nothing
    would tell a user to wait for a message that never comes, and an attacker which usernames exist."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not settings.EMAIL_URL:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
