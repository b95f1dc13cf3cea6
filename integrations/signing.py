"""The signature on every outgoing webhook, the same scheme the Hub uses on the events it sends us:

    Hubdash-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

A receiver recomputes the HMAC over the timestamp, a dot and the exact bytes it received, compares in
constant time, and refuses a timestamp too far from its clock (we suggest 5 minutes) so a captured
delivery cannot be replayed later. Each retry is signed afresh with its own timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Hubdash-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def sign(secret: str, body: bytes, *, now: float | None = None) -> str:
    return signature(secret, body, int(now if now is not None else time.time()))


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (kept here so the tests and the README's example check the same thing)."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields.get("t", [""])[0])
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))
