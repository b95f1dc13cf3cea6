"""The signed-in user's own pages: sign-in (which also learns the browser's time zone) and the profile.

The profile is every user's, agents included: it changes only the user's own preferences.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from channels_app.access import AuthenticatedRequest
from channels_app.actions.preferences import (
    do_note_browser_time_zone,
    do_update_notification_settings,
    do_update_preferences,
)
from channels_app.forms import NotificationSettingsForm, PreferencesForm
from channels_app.models import UserPreferences
from channels_app.preferences import Preferences, forget_preferences, preferences_of


class SignInView(auth_views.LoginView):
    """Django's sign-in, plus the zone the page's script read from the browser (a hidden field)."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        do_note_browser_time_zone(user=form.get_user(), time_zone=self.request.POST.get("time_zone", "")[:64])
        return response


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: AuthenticatedRequest) -> HttpResponse:
    current = preferences_of(request.user)
    form = PreferencesForm(
        request.POST or None,
        initial={"language": current.language, "time_zone": current.time_zone or settings.TIME_ZONE},
    )
    if request.method == "POST" and form.is_valid():
        saved = do_update_preferences(actor=request.user, **form.cleaned_data)
        forget_preferences(request.user)
        # Say it in the language just chosen (or the browser's, when that is the choice).
        translation.activate(saved.language or translation.get_language_from_request(request))
        messages.success(request, _("Preferences saved."))
        return redirect("profile")
    return render(
        request,
        "profile/index.html",
        {
            "form": form,
            "notifications_form": _notifications_form(current),
            "default_time_zone": settings.TIME_ZONE,
            "has_time_zone": bool(current.time_zone),
        },
    )


def _notifications_form(current: Preferences, data: Any = None) -> NotificationSettingsForm:
    initial = dict(zip(UserPreferences.NOTIFICATION_FIELDS, current.notifications, strict=True))
    return NotificationSettingsForm(data, initial=initial)


@require_POST
@login_required
def notification_settings(request: AuthenticatedRequest) -> HttpResponse:
    """The profile's notification switches (a form of its own, beside language and time zone)."""
    form = _notifications_form(preferences_of(request.user), request.POST)
    if form.is_valid():  # checkboxes: any post is valid, an unticked box is False
        do_update_notification_settings(actor=request.user, settings_on=form.cleaned_data)
        forget_preferences(request.user)
        messages.success(request, _("Notification settings saved."))
    return redirect(reverse("profile") + "#notifications")
