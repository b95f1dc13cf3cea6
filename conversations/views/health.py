"""The settings area's health panel (/settings/health/): it reads conversations' tables, so it lives in
conversations and joins the settings URLs from `conversations/settings_urls.py`."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from channels_app.access import AuthenticatedRequest
from channels_app.hooks import collect_health_alerts
from channels_app.selectors import administered_applications
from channels_app.views import settings_admin_required
from conversations.selectors.health import health as health_report


@require_GET
@settings_admin_required
def health(request: AuthenticatedRequest) -> HttpResponse:
    applications = list(administered_applications(request.user))
    report = health_report(applications)
    # Alerts of the apps above this one (e.g. an outgoing webhook turned off: integrations/).
    context = {"report": report, "alerts": collect_health_alerts(applications), "section": "health"}
    # htmx refreshes the panel in place; a normal request gets the whole page.
    template = "settings/partials/health_panel.html" if request.htmx else "settings/health.html"
    return render(request, template, context)
