"""Personal API tokens: create (shown once), revoke, and find the one a request carries.

A token is `hd_` and 43 url-safe characters (256 random bits). Only its SHA-256 digest is stored: a
database dump holds no usable token, and lookup is one indexed equality on the digest.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_app.access import AuthUser
from integrations.models import ApiToken

TOKEN_PREFIX = "hd_"
# `last_used_at` is written at most this often per token: a busy integration must not write a row per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 50


class TokenError(ValueError):
    """A token request that cannot be done; the message is for the user."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the token itself: shown once, never stored


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def do_create_token(*, user: AuthUser, name: str, expires_at: datetime | None) -> NewToken:
    name = " ".join(name.split())
    if not name:
        raise TokenError(_("Give the token a name, e.g. the integration that will use it."))
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenError(_("The expiry date must be in the future."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_TOKENS_PER_USER:
            raise TokenError(_("You have too many tokens: revoke one you no longer use."))
        token = ApiToken.objects.create(
            user=user, name=name[:80], prefix=raw[:10], digest=digest_of(raw), expires_at=expires_at
        )
    return NewToken(token=token, secret=raw)


def do_revoke_token(*, user: AuthUser, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens (None when they have no such token: a 404 for the caller)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if token is None:
            return None
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(raw: str) -> ApiToken | None:
    """The usable token `raw` is, with its (active) user; None for anything else. Notes its use."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(raw)).first()
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
