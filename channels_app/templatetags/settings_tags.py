"""Template helpers of the settings area: whether to show the Settings link, and audit values."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext

from channels_app import selectors
from channels_app.hub.capabilities import CAPABILITIES, ChannelKind

register = template.Library()


@register.filter
def can_use_settings(user: Any) -> bool:
    """True for admins of an Application and superusers (the nav's Settings link)."""
    return selectors.can_use_settings(user)


@register.filter
def audit_value(value: Any) -> str:
    """An audit entry's before/after value as text ("—" for nothing)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.filter
def to_help(kind: str) -> str:
    """What a recipient id (`to`) looks like on this channel kind."""
    try:
        return str(CAPABILITIES[ChannelKind(kind)].to_help)
    except ValueError:
        return ""
