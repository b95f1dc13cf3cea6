"""Template helpers of the delivery review."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.formats import number_format
from django.utils.translation import pgettext_lazy

from conversations.selectors.review import can_review as _can_review

register = template.Library()


@register.filter
def can_review(user) -> bool:
    """Whether the nav shows "Delivery" (admins of an Application and superusers)."""
    return _can_review(user)


@register.filter
def duration(value: timedelta | None) -> str:
    """A short human duration: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{number_format(seconds, 1)} s"  # the language's decimal separator: 12,3 s in Portuguese
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# A reply's status as the review shows it (the filters and CSV keep the stored value).
_STATUS_LABELS = {
    "pending": pgettext_lazy("reply status", "pending"),
    "enqueued": pgettext_lazy("reply status", "enqueued"),
    "sent": pgettext_lazy("reply status", "sent"),
    "delivered": pgettext_lazy("reply status", "delivered"),
    "read": pgettext_lazy("reply status", "read"),
    "failed": pgettext_lazy("reply status", "failed"),
}


@register.filter
def status_label(status: str) -> str:
    return str(_STATUS_LABELS.get(status, status))


_TONES = {"failed": "bad", "pending": "warn", "delivered": "ok", "read": "ok"}


@register.filter
def status_tone(status: str) -> str:
    return _TONES.get(status, "")
