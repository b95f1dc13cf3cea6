"""Settings forms: they parse and validate; the writes are actions (channels_app/actions.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.db import models
from django.utils.translation import gettext_lazy as _

from channels_app.access import AuthUser, visible_applications
from channels_app.hub.capabilities import CAPABILITIES, ChannelKind, recipient_error
from channels_app.hub.message_content import ContentError, TemplateText, check_template_id, placeholders
from channels_app.models import (
    Application,
    Channel,
    HubWebhook,
    Membership,
    UserPreferences,
    WhatsAppTemplate,
    time_zone_names,
)

# Refusals of a value another tenant may hold: worded so they do not confirm that it does.
CHANNEL_UNUSABLE = _("This channel cannot be registered here.")
USERNAME_UNUSABLE = _("That username cannot be used: choose another.")

KIND_CHOICES = [(kind.value, kind.label) for kind in ChannelKind]
ROLE_CHOICES = [("", _("No access")), *Membership.Role.choices]


class SettingsForm(forms.Form):
    """Labels without Django's trailing colon: they sit above their inputs (app.css)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ApiKeyField(forms.CharField):
    """The Hub API key: write-only, so the input never renders a value back (not even after an error)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Hub API key"))
        kwargs.setdefault(
            "help_text", _("From the Hub dashboard: Application → Settings → API Key. Shown once there.")
        )
        super().__init__(
            min_length=8,
            max_length=500,
            widget=forms.PasswordInput(
                render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        key = super().clean(value)
        if any(ch.isspace() for ch in key):
            raise forms.ValidationError(_("An API key has no spaces: copy it again from the Hub."))
        # It travels in an HTTP header, which cannot carry other characters (found by the API's fuzzing).
        if not (key.isascii() and key.isprintable()):
            raise forms.ValidationError(
                _("An API key has only letters, digits and punctuation: copy it again.")
            )
        return key


class ApplicationForm(SettingsForm):
    name = forms.CharField(max_length=120, label=_("Name"))
    auto_assign_on_reply = forms.BooleanField(
        required=False,
        label=_("Assign on first reply"),
        help_text=_("An unassigned conversation is assigned to the agent who replies first."),
    )
    # Posted by the page's form with the box: an unticked box posts nothing, so without this a post that
    # never showed the box (a script renaming the Application) would turn the setting off.
    auto_assign_shown = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, user: AuthUser, instance: Application | None = None, **kwargs: Any
    ) -> None:
        self.user = user
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial", {"name": instance.name, "auto_assign_on_reply": instance.auto_assign_on_reply}
            )
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        # A name tells apart the Applications one person works with, so it is unique among those the user
        # can see (case-insensitively), not across tenants: another tenant's names are neither refused
        # nor confirmed.
        others = visible_applications(self.user).filter(name__iexact=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                _("You already have an Application named “%(name)s”: choose another name."),
                params={"name": name},
            )
        return name


class ApplicationCreateForm(ApplicationForm):
    api_key = ApiKeyField()
    auto_assign_on_reply = None  # type: ignore[assignment]  # on by default; changed on the Application's page
    auto_assign_shown = None  # type: ignore[assignment]


class ApiKeyForm(SettingsForm):
    api_key = ApiKeyField(label=_("New Hub API key"))


class ChannelCreateForm(SettingsForm):
    hub_channel_id = forms.UUIDField(
        label=_("Hub channel UUID"),
        help_text=_("The Application channel ID the Hub shows on the channel's page."),
        error_messages={
            "invalid": _(
                "Enter the channel's UUID as the Hub shows it, e.g. 3f2c9a10-7d4e-4b8a-9c21-0e5d6f7a8b90."
            )
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    kind = forms.ChoiceField(choices=KIND_CHOICES, label=_("Kind"))
    display_name = forms.CharField(max_length=80, label=_("Display name"))

    def clean_hub_channel_id(self) -> uuid.UUID:
        value = self.cleaned_data["hub_channel_id"]
        # A UUID belongs to one Hub Application, so it is unique across all of ours; the message neither
        # says whose it is nor confirms that another tenant registered it.
        if Channel.objects.filter(hub_channel_id=value).exists():
            raise forms.ValidationError(CHANNEL_UNUSABLE)
        return value


class ChannelForm(SettingsForm):
    display_name = forms.CharField(max_length=80, label=_("Display name"))


class WhatsAppTemplateForm(SettingsForm):
    """One approved template, checked on save: a UUID id, and body variables {{1}}…{{n}} without gaps."""

    hub_template_id = forms.CharField(
        max_length=64,
        label=_("Hub template id"),
        help_text=_("The template's UUID in the Hub, e.g. 9b1e4c2a-55f0-4e3b-8d7a-2c6f1e0a9d34."),
    )
    name = forms.CharField(
        max_length=120, label=_("Name"), help_text=_("As approved by Meta, e.g. order_shipped.")
    )
    language = forms.RegexField(
        regex=r"^[a-z]{2,3}(_[A-Z]{2})?$",
        max_length=12,
        label=_("Language"),
        help_text=_("Meta's language code, e.g. pt_BR or en_US."),
        error_messages={"invalid": _("Enter a language code such as pt_BR, en_US or es.")},
    )
    category = forms.ChoiceField(choices=WhatsAppTemplate.Category.choices, label=_("Category"))
    header = forms.CharField(max_length=60, required=False, label=_("Header"))
    body = forms.CharField(
        max_length=1024,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Body"),
        help_text=_("Variables as {{1}}, {{2}}… in order, without gaps."),
    )
    footer = forms.CharField(max_length=60, required=False, label=_("Footer"))
    buttons = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Buttons"),
        help_text=_("One button label per line (at most 3)."),
    )

    def clean_hub_template_id(self) -> str:
        try:
            return check_template_id(self.cleaned_data["hub_template_id"])
        except ContentError as exc:
            raise forms.ValidationError(str(exc)) from None

    def _no_variables(self, name: str) -> str:
        value: str = self.cleaned_data[name].strip()
        if placeholders(value):
            raise forms.ValidationError(_("Only the body takes variables."))
        return value

    def clean_header(self) -> str:
        return self._no_variables("header")

    def clean_footer(self) -> str:
        return self._no_variables("footer")

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        try:
            TemplateText(header="", body=body).variables  # noqa: B018 (checks the numbering)
        except ContentError as exc:
            raise forms.ValidationError(str(exc)) from None
        return body

    def clean_buttons(self) -> list[str]:
        labels = [line.strip() for line in self.cleaned_data["buttons"].splitlines() if line.strip()]
        if len(labels) > 3 or any(len(label) > 25 for label in labels):
            raise forms.ValidationError(_("At most 3 buttons, of up to 25 characters each."))
        return labels


class TestMessageForm(SettingsForm):
    to = forms.CharField(max_length=128, label=_("Recipient (to)"))
    text = forms.CharField(max_length=300, initial=_("Test message from Hubdash."), label=_("Text"))

    def __init__(self, *args: Any, channel: Channel, **kwargs: Any) -> None:
        self.channel = channel
        super().__init__(*args, **kwargs)
        self.fields["to"].help_text = _("Expected: %(format)s.") % {
            "format": CAPABILITIES[ChannelKind(channel.kind)].to_help
        }

    def clean_to(self) -> str:
        to = self.cleaned_data["to"].strip()
        problem = recipient_error(self.channel.kind, to)
        if problem:
            raise forms.ValidationError(problem)
        return to


class AcceptUnsignedForm(SettingsForm):
    """The "accept unsigned events" switch: the button posts the state it turns the switch to."""

    accept = forms.TypedChoiceField(
        choices=[("1", _("on")), ("0", _("off"))], coerce=lambda value: value == "1"
    )


class WebhookLogFilterForm(SettingsForm):
    event = forms.ChoiceField(choices=HubWebhook.EventType.choices, required=False)
    status = forms.ChoiceField(
        choices=[("", _("All")), ("Failed", _("Failed")), ("Success", _("Success"))], required=False
    )
    page = forms.IntegerField(min_value=1, max_value=10_000, required=False)

    def values(self) -> tuple[str, str, int]:
        """(event type, status, page), with defaults for anything missing or invalid."""
        data = self.cleaned_data if self.is_valid() else {}
        return (
            data.get("event") or HubWebhook.EventType.MESSAGE,
            data.get("status") or "",
            data.get("page") or 1,
        )


class UUIDListField(forms.Field):
    """Several UUIDs from checkboxes with one name (the logs to retry)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError(_("Expected a list of ids."))
        ids: list[str] = []
        for item in value:
            try:
                ids.append(str(uuid.UUID(str(item))))
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not a log id."), params={"value": repr(item)}
                ) from None
        return list(dict.fromkeys(ids))


class RetryLogsForm(SettingsForm):
    event = forms.ChoiceField(choices=HubWebhook.EventType.choices)
    # Any UUID may be asked for: the Hub answers only for logs of this key's webhooks.
    log_ids = UUIDListField(error_messages={"required": _("Select the logs to retry.")})

    def clean_log_ids(self) -> list[str]:
        ids = self.cleaned_data["log_ids"]
        if len(ids) > 50:  # the Hub's page size; one bulk call
            raise forms.ValidationError(_("Retry at most 50 logs at once."))
        return ids


# --- Team ------------------------------------------------------------------------------------------


class _AccessFields(SettingsForm):
    """One role field per Application the acting admin administers."""

    def __init__(self, *args: Any, applications: list[Application], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.applications = applications
        for application in applications:
            self.fields[f"role_{application.pk}"] = forms.ChoiceField(
                choices=ROLE_CHOICES, required=False, label=application.name
            )

    def access_fields(self) -> list[forms.BoundField]:
        return [self[f"role_{application.pk}"] for application in self.applications]

    def access(self) -> dict[Application, str | None]:
        return {a: self.cleaned_data.get(f"role_{a.pk}") or None for a in self.applications}


class AgentCreateForm(_AccessFields):
    username = forms.CharField(max_length=150, label=_("Username"))
    first_name = forms.CharField(max_length=150, required=False, label=_("First name"))
    last_name = forms.CharField(max_length=150, required=False, label=_("Last name"))
    email = forms.EmailField(required=False, label=_("Email"))
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Give it to them privately; they can change it under “Password”."),
    )

    field_order = ["username", "first_name", "last_name", "email", "password"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        User = get_user_model()
        username_field = User._meta.get_field(User.USERNAME_FIELD)
        assert isinstance(username_field, models.Field)  # a column, not a relation
        for validator in username_field.validators:
            validator(username)
        # Usernames are global (Django's user table): the refusal must not confirm that someone of another
        # Application has this one.
        if User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).exists():
            raise forms.ValidationError(USERNAME_UNUSABLE)
        return username

    def clean(self) -> dict[str, Any]:
        super().clean()  # Form.clean() returns cleaned_data (typed as optional by the stubs)
        data = self.cleaned_data
        password = data.get("password")
        if password:
            user = get_user_model()(
                username=data.get("username", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
            )
            try:
                password_validation.validate_password(password, user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        if not any(data.get(f"role_{a.pk}") for a in self.applications):
            raise forms.ValidationError(_("Give the new user access to at least one Application."))
        return data


class AccessForm(_AccessFields):
    def __init__(self, *args: Any, user: Any, applications: list[Application], **kwargs: Any) -> None:
        roles = {m.application_id: m.role for m in getattr(user, "managed_memberships", [])}
        kwargs.setdefault("initial", {f"role_{a.pk}": roles.get(a.pk, "") for a in applications})
        super().__init__(*args, applications=applications, **kwargs)


class AuditFilterForm(SettingsForm):
    application = forms.IntegerField(required=False, min_value=1)
    before = forms.IntegerField(required=False, min_value=1)


# --- Profile -----------------------------------------------------------------------------------------


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(time_zone_names())]


class PreferencesForm(SettingsForm):
    """The profile's language switch and time zone (languages are named in themselves: settings.LANGUAGES)."""

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("The browser's language")), *settings.LANGUAGES],
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_time_zone_choices,
        help_text=_("Every time in Hubdash is shown in this zone."),
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a time zone we know: choose one from the list, e.g. America/Sao_Paulo."
            ),
        },
    )


# --- Service level -----------------------------------------------------------------------------------

WEEKDAY_CHOICES = [
    ("0", _("Monday")), ("1", _("Tuesday")), ("2", _("Wednesday")), ("3", _("Thursday")),
    ("4", _("Friday")), ("5", _("Saturday")), ("6", _("Sunday")),
]  # fmt: skip


class ServiceLevelForm(SettingsForm):
    """An Application's first-response target: minutes, and when the clock runs (always, or the same
    opening hours on the chosen weekdays, in the Application's time zone). No minutes: no target."""

    minutes = forms.IntegerField(
        label=_("First response within (minutes)"),
        required=False,
        min_value=1,
        max_value=60 * 24 * 30,
        help_text=_("Empty: no target."),
    )
    always = forms.BooleanField(label=_("The clock always runs (no business hours)"), required=False)
    days = forms.MultipleChoiceField(
        label=_("Business days"), choices=WEEKDAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    opens = forms.TimeField(
        label=_("Opens at"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes = forms.TimeField(
        label=_("Closes at"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone of the business hours"),
        choices=_time_zone_choices,
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a time zone we know: choose one from the list, e.g. America/Sao_Paulo."
            ),
        },
    )

    @classmethod
    def initial_for(cls, level: Any) -> dict[str, Any]:
        if level is None:
            return {"always": True, "time_zone": settings.TIME_ZONE, "days": ["0", "1", "2", "3", "4"]}
        hours = level.business_hours
        return {
            "minutes": level.first_response_minutes,
            "always": not hours,
            "days": [str(day) for day, _o, _c in hours] or ["0", "1", "2", "3", "4"],
            "opens": hours[0][1] if hours else None,
            "closes": hours[0][2] if hours else None,
            "time_zone": level.time_zone,
        }

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if data.get("minutes") and not data.get("always"):
            opens, closes = data.get("opens"), data.get("closes")
            if not data.get("days"):
                self.add_error("days", _("Choose the business days, or let the clock always run."))
            if opens is None or closes is None or closes <= opens:
                self.add_error("closes", _("Give the opening and closing time; it closes after it opens."))
        return data

    def business_hours(self) -> list[list[Any]]:
        data = self.cleaned_data
        if data.get("always"):
            return []
        opens, closes = data["opens"].strftime("%H:%M"), data["closes"].strftime("%H:%M")
        return [[int(day), opens, closes] for day in sorted(data["days"])]


# The profile words each switch by what it notifies of, under its "Desktop" or "Sound" heading.
_NOTIFIED_OF = {
    "new_conversation": _("A new conversation"),
    "assigned_message": _("A customer's message in a conversation assigned to me"),
    "mention": _("A colleague's note that mentions me"),
}


class NotificationSettingsForm(forms.ModelForm):
    """The profile's notification switches (UserPreferences.NOTIFICATION_FIELDS)."""

    class Meta:
        model = UserPreferences
        fields = UserPreferences.NOTIFICATION_FIELDS
        labels = {
            f"{where}_{what}": label for where in ("desktop", "sound") for what, label in _NOTIFIED_OF.items()
        }
