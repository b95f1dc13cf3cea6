"""Dates and times as the viewer reads them: in their time zone (activated per request by
channels_app/preferences.py) and in their language's one format (hubdash/formats/)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()


@register.filter
def when(value: datetime | None) -> str:
    """E.g. "29 Nov 2026, 01:06:12" in English, "29/11/2026 01:06:12" in Portuguese; "—" for none."""
    if not value:
        return "—"
    return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "DATETIME_FORMAT")


@register.filter
def when_ms(value: datetime | None) -> str:
    """`when` with milliseconds, for a reply's attempts and status reports (several in one second)."""
    if not value:
        return "—"
    return f"{when(value)}.{value.microsecond // 1000:03d}"
