"""Verification of the Hub's `X-hub-Signature` header (docs/hub.md, Webhooks and signatures)."""

import hashlib
import hmac
import time
from collections.abc import Iterable


def sign(raw_body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value the Hub would send for these bytes (used by tests and tools)."""
    t = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), t.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(
    raw_body: bytes, header: str | None, secrets: Iterable[str], *, max_skew: int, now: float | None = None
) -> str | None:
    """None when the signature is valid for one of `secrets`, else the reason it is not.

    Verifies the exact bytes received (never re-serialized JSON). Accepts several `v1=` values
    ([GAP] (docs/hub.md, Webhooks and signatures): the Hub may send one per secret while rotating) and several secrets of ours.
    """
    if not header:
        return "missing X-hub-Signature header"
    timestamp = ""
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamp = value.strip()
        elif key == "v1":
            candidates.append(value.strip().lower())
    # isdigit() alone admits "²" and other digits int() refuses; a header must never raise here.
    if not (timestamp.isascii() and timestamp.isdigit()) or not candidates:
        return "malformed X-hub-Signature header"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > max_skew:
        return "stale X-hub-Signature timestamp"
    signed = timestamp.encode() + b"." + raw_body
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        # As bytes: compare_digest refuses str with non-ASCII characters, which a forged header may hold.
        if any(hmac.compare_digest(expected.encode(), c.encode("utf-8", "replace")) for c in candidates):
            return None
    return "signature does not match"
