"""Opaque keyset cursors: a position in a list (never an offset), encoded so clients pass it back as is.

A cursor names its list (`conversations`, `messages-before`…) so one list's cursor is refused by another.
A cursor that does not decode is a 400 on the `cursor` (or `before`/`after`) field, never a 500.
"""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

INVALID = _("Invalid cursor: pass back a cursor exactly as a previous page gave it.")


def encode(kind: str, position: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode(kind: str, cursor: str, *, field: str = "cursor") -> str:
    """The position inside `cursor`; ValidationError on `field` when it is not a cursor of `kind`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise serializers.ValidationError({field: [INVALID]}) from None
    found, _sep, position = text.partition(":")
    if found != kind or not position:
        raise serializers.ValidationError({field: [INVALID]})
    return position


def decode_id(kind: str, cursor: str, *, field: str = "cursor") -> int:
    position = decode(kind, cursor, field=field)
    if not (position.isascii() and position.isdigit()) or len(position) > 19 or int(position) >= 2**63:
        raise serializers.ValidationError({field: [INVALID]})
    return int(position)
