"""Reading the Hub's content objects (inbound webhooks and outbound sends) for people.

Both shapes are read by the typed content model (`message_content.py`); this module keeps the one-line
preview that ingest, sending and the inbox list store and show.
"""

from __future__ import annotations

from channels_app.hub.message_content import PREVIEW_LENGTH, parse_content

__all__ = ["PREVIEW_LENGTH", "content_preview"]


def content_preview(content: object) -> str:
    """One line that says what a message is, for the inbox list and notifications (never HTML)."""
    return parse_content(content).preview()
