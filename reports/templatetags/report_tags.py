"""Template helpers of the reports: the query string of a figure's list, and a heat map cell's shade."""

from __future__ import annotations

from django import template

from reports.scope import ReportScope

register = template.Library()


@register.simple_tag
def report_query(scope: ReportScope, **extra: object) -> str:
    """The scope's filters plus `extra` (figure=…, status=…), URL-encoded (the template escapes the &)."""
    return scope.query(**extra)


@register.filter
def shade(value: int, maximum: int) -> str:
    """A heat map cell's intensity, 0 to 1 with two decimals (a CSS custom property of the cell)."""
    return f"{value / maximum:.2f}" if maximum else "0"


@register.filter
def get(mapping: dict[object, object], key: object) -> object:
    return mapping.get(key)
