"""Encryption at rest for secrets (Hub API keys, webhook signing secrets).

A database dump or a read replica must not leak the keys that let someone send as our customers, so
these columns hold Fernet tokens. The field decrypts on load so code works with plain strings, but
nothing renders it: forms are write-only and admin shows only the last four characters.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        # Derived, so a development machine needs no extra variable; with DEBUG off settings.py refuses to
        # start without FIELD_ENCRYPTION_KEYS, so this never runs in production.
        digest = hashlib.sha256(b"hubdash-field-encryption:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong FIELD_ENCRYPTION_KEYS must be loud, not an empty key
        raise ValueError("cannot decrypt a stored secret: check FIELD_ENCRYPTION_KEYS") from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; the Python value is the plain text."""

    def from_db_value(self, value: str | None, expression, connection) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: str | None) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def last4(secret: str) -> str:
    return secret[-4:] if len(secret) >= 8 else ""
