"""Forms of the conversations app: they parse and validate query strings; reads and writes live elsewhere."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels_app.forms import SettingsForm
from conversations.models import Label

# Filter days become datetimes in the site's time zone, and the last day is extended by one: near
# date.min/date.max that arithmetic overflows (a 500), so days outside this range are refused up front.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
# auth.User keeps Django's AutoField (a 32-bit column on PostgreSQL); our own tables use BigAutoField.
# An id past its column's range is an error in the query (a 500), not "no rows".
MAX_USER_ID = 2**31 - 1
MAX_ID = 2**63 - 1


class FilterDayField(forms.DateField):
    def __init__(self, **kwargs: Any) -> None:
        # The page's <input type="date"> always sends YYYY-MM-DD; nothing else is guessed at.
        super().__init__(
            required=False,
            input_formats=["%Y-%m-%d"],
            error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
            **kwargs,
        )

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(
                _("Enter a date between %(first)s and %(last)s."),
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )


class ReviewFilterForm(forms.Form):
    """The delivery review's filters that reach the database as values: a bad one is dropped and said.

    The other filters (status, error code, stuck) are matched against fixed choices or compared as text
    by ReviewFilters, so they cannot fail a query.
    """

    application = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label=_("Application"))
    channel = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label=_("Channel"))
    agent = forms.IntegerField(required=False, min_value=1, max_value=MAX_USER_ID, label=_("Agent"))
    date_from = FilterDayField(label=_("From"))
    date_to = FilterDayField(label=_("To"))

    data: QueryDict  # always bound to request.GET (conversations/views/review.py)

    def valid_params(self) -> QueryDict:
        """The query string without the values this form refused (the rest is kept as sent)."""
        params = self.data.copy()
        if not self.is_valid():
            for name in self.errors:
                params.pop(name, None)
        return params

    def error_lines(self) -> list[str]:
        """One line per refused filter, e.g. "To: Enter a date between 1900-01-01 and 2999-12-31."."""
        if not self.is_bound or self.is_valid():
            return []
        return [
            _("%(filter)s: %(error)s") % {"filter": self.fields[name].label, "error": error}
            for name, errors in self.errors.items()
            for error in errors
        ]


class LabelForm(SettingsForm):
    """A label's name and colour (the action checks them again: empty, too long, duplicate)."""

    name = forms.CharField(label=_("Name"), max_length=40)
    colour = forms.ChoiceField(label=_("Colour"), choices=Label.COLOURS)


class CannedReplyForm(SettingsForm):
    """A canned reply as typed (the action checks the code, the variables and duplicates)."""

    code = forms.CharField(
        label=_("Code"), max_length=33, help_text=_("Typed after / in the composer: letters, digits, - or _.")
    )
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(
        label=pgettext_lazy("a canned reply's text", "Reply"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        strip=False,
        help_text=_(
            "Variables: {{contact.name}}, {{contact.id}}, {{agent.name}}, {{agent.first_name}}, {{application.name}}."
        ),
    )
    shared = forms.BooleanField(label=_("Shared with the whole team (admins)"), required=False)


# --- Snoozing ----------------------------------------------------------------------------------------

SNOOZE_PRESETS = (
    ("1h", _("In 1 hour")),
    ("tonight", _("Tonight (20:00)")),
    ("tomorrow", _("Tomorrow 9:00")),
    ("next_week", _("Next week (Monday 9:00)")),
)


def snooze_preset_time(preset: str, *, now: datetime) -> datetime | None:
    """When a preset ends, in `now`'s time zone (the agent's, activated per request): "tonight" is
    today 20:00 (tomorrow's once past), "next week" the coming Monday 9:00."""
    local = timezone.localtime(now)
    if preset == "1h":
        return now + timedelta(hours=1)
    if preset == "tonight":
        tonight = local.replace(hour=20, minute=0, second=0, microsecond=0)
        return tonight if tonight > local else _same_wall_time(tonight + timedelta(days=1))
    if preset == "tomorrow":
        return _same_wall_time(_at_nine(local + timedelta(days=1)))
    if preset == "next_week":
        return _same_wall_time(_at_nine(local + timedelta(days=7 - local.weekday())))
    return None


def _at_nine(value: datetime) -> datetime:
    return value.replace(hour=9, minute=0, second=0, microsecond=0)


def _same_wall_time(value: datetime) -> datetime:
    """9:00 on that day even across a daylight-saving change (adding days kept the old offset)."""
    return timezone.make_aware(value.replace(tzinfo=None), value.tzinfo)


class SnoozeForm(forms.Form):
    """A preset, or a custom time (the page's <input type="datetime-local">, in the agent's zone)."""

    preset = forms.ChoiceField(choices=[("", ""), *SNOOZE_PRESETS], required=False)
    until = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"invalid": _("Enter a date and time.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        preset, until = data.get("preset"), data.get("until")
        if preset:
            data["until"] = snooze_preset_time(preset, now=timezone.now())
        elif until is None and not self.errors:
            raise forms.ValidationError(_("Choose when the conversation comes back."))
        return data

    def first_error(self) -> str:
        return next(str(e) for errors in self.errors.values() for e in errors)
