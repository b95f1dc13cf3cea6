"""Applications page for everyone, and the settings area for admins (mounted at /settings/).

Every settings view is wrapped in `settings_admin_required` (agents: 403) and fetches its object with
one helper that also checks the user administers it (`application_for(..., admin=True)`,
`admin_channel_for`, `managed_user_for`: 404 for another tenant's objects). Writes are actions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels_app import audit, selectors
from channels_app.access import AuthenticatedRequest, application_for, visible_applications
from channels_app.actions.applications import (
    do_check_connection,
    do_create_application,
    do_replace_api_key,
    do_set_accept_unsigned,
    do_set_service_level,
    do_update_application,
)
from channels_app.actions.channels import (
    do_register_channel,
    do_send_test_message,
    do_set_channel_active,
    do_update_channel,
)
from channels_app.actions.common import SettingsError
from channels_app.actions.redelivery import do_retry_webhook_logs, do_run_recovery
from channels_app.actions.team import do_create_agent, do_set_access, do_set_user_active
from channels_app.actions.templates import do_add_template, do_delete_template
from channels_app.actions.webhooks import do_connect_webhooks, do_refresh_webhooks, webhook_url
from channels_app.forms import (
    AcceptUnsignedForm,
    AccessForm,
    AgentCreateForm,
    ApiKeyForm,
    ApplicationCreateForm,
    ApplicationForm,
    AuditFilterForm,
    ChannelCreateForm,
    ChannelForm,
    RetryLogsForm,
    ServiceLevelForm,
    TestMessageForm,
    WebhookLogFilterForm,
    WhatsAppTemplateForm,
)
from channels_app.hub import HubError
from channels_app.hub.capabilities import CAPABILITIES, ChannelKind
from channels_app.models import Application, Channel, HubWebhook, WhatsAppTemplate

View = Callable[..., HttpResponse]


@login_required
def application_list(request: AuthenticatedRequest) -> HttpResponse:
    """Read-only, for everyone: the Applications and channels the user works on."""
    applications = visible_applications(request.user).prefetch_related("channels")
    return render(
        request,
        "channels_app/application_list.html",
        {"applications": applications, "can_use_settings": selectors.can_use_settings(request.user)},
    )


def settings_admin_required(view: View) -> View:
    """Signed in, and an admin of some Application (or a superuser); agents get 403 everywhere."""

    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.can_use_settings(request.user):
            raise PermissionDenied(_("The settings are for Application admins."))
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def hub_error_text(exc: HubError) -> str:
    """What an admin reads when the Hub said no: the status first, so a 401 reads as a 401."""
    # exc.message is the Hub's own words (or the client's, about the network): never translated.
    if exc.status == 401:
        # The client's message already reads "the Hub refused the API key (<the Hub's reason>)".
        return _(
            "HTTP 401: %(message)s. Check that the whole key was copied and that it was not revoked."
        ) % {"message": exc.message}
    if exc.status:
        return _("The Hub answered HTTP %(status)s: %(message)s.") % {
            "status": exc.status,
            "message": exc.message,
        }
    return _("Could not reach the Hub: %(message)s.") % {"message": exc.message}


KIND_HELP = [(kind.value, CAPABILITIES[kind].label, CAPABILITIES[kind].to_help) for kind in ChannelKind]


# --- Overview and Applications --------------------------------------------------------------------------


@require_GET
@settings_admin_required
def index(request: AuthenticatedRequest) -> HttpResponse:
    applications = list(selectors.settings_overview(request.user))
    for application in applications:
        application.webhook_url = webhook_url(application)
    return render(
        request,
        "settings/index.html",
        {
            "applications": applications,
            "can_create": selectors.can_create_application(request.user),
            "section": "applications",
        },
    )


@require_http_methods(["GET", "POST"])
@settings_admin_required
def application_create(request: AuthenticatedRequest) -> HttpResponse:
    if not selectors.can_create_application(request.user):
        raise PermissionDenied
    form = ApplicationCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            application = do_create_application(
                actor=request.user, name=form.cleaned_data["name"], api_key=form.cleaned_data["api_key"]
            )
        except HubError as exc:
            form.add_error("api_key" if exc.permanent else None, hub_error_text(exc))
        else:
            messages.success(
                request, _("%(name)s created: the Hub accepted its API key.") % {"name": application.name}
            )
            return redirect("settings:application", application.pk)
    return render(request, "settings/application_create.html", {"form": form, "section": "applications"})


def _application_page(
    request: AuthenticatedRequest, application: Application, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {
        "application": application,
        "name_form": forms.get("name_form") or ApplicationForm(user=request.user, instance=application),
        "key_form": forms.get("key_form") or ApiKeyForm(),
        "channels": selectors.application_channels(application),
        "webhooks": application.hub_webhooks.order_by("event_type"),
        "webhook_url": webhook_url(application),
        "service_level_form": forms.get("service_level_form")
        or ServiceLevelForm(initial=ServiceLevelForm.initial_for(selectors.service_level_of(application))),
        "section": "applications",
    }
    return render(request, "settings/application_detail.html", context, status=status)


@require_POST
@settings_admin_required
def application_service_level(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    form = ServiceLevelForm(request.POST)
    if not form.is_valid():
        return _application_page(request, application, status=400, service_level_form=form)
    do_set_service_level(
        actor=request.user,
        application=application,
        minutes=form.cleaned_data["minutes"],
        time_zone=form.cleaned_data["time_zone"],
        business_hours=form.business_hours(),
    )
    messages.success(request, _("First-response target saved."))
    return redirect("settings:application", application.pk)


@require_http_methods(["GET", "POST"])
@settings_admin_required
def application_detail(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    if request.method == "GET":
        return _application_page(request, application)
    form = ApplicationForm(request.POST, user=request.user, instance=application)
    if not form.is_valid():
        return _application_page(request, application, name_form=form)
    do_update_application(
        actor=request.user,
        application=application,
        name=form.cleaned_data["name"],
        auto_assign_on_reply=(
            form.cleaned_data["auto_assign_on_reply"] if form.cleaned_data["auto_assign_shown"] else None
        ),
    )
    messages.success(request, _("Application saved."))
    return redirect("settings:application", application.pk)


@require_POST
@settings_admin_required
def application_key(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            application = do_replace_api_key(
                actor=request.user, application=application, api_key=form.cleaned_data["api_key"]
            )
        except HubError as exc:
            form.add_error("api_key" if exc.permanent else None, hub_error_text(exc))
        else:
            messages.success(
                request,
                _("API key replaced: the Hub accepted %(key)s.") % {"key": application.masked_api_key},
            )
            return redirect("settings:application", application.pk)
    return _application_page(request, application, key_form=form)


@require_POST
@settings_admin_required
def application_test_connection(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    error = do_check_connection(application=application)
    if error is None:
        messages.success(
            request,
            _("Connection works: the Hub accepted the API key %(key)s.")
            % {"key": application.masked_api_key},
        )
    else:
        messages.error(request, _("Connection failed. %(error)s") % {"error": hub_error_text(error)})
    return redirect("settings:application", application.pk)


# --- Channels -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@settings_admin_required
def channel_create(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    form = ChannelCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel = do_register_channel(actor=request.user, application=application, **form.cleaned_data)
        except SettingsError as exc:
            form.add_error("hub_channel_id", str(exc))
        else:
            messages.success(request, _("Channel %(name)s registered.") % {"name": channel.display_name})
            return redirect("settings:application", application.pk)
    return render(
        request,
        "settings/channel_create.html",
        {"application": application, "form": form, "kind_help": KIND_HELP, "section": "applications"},
    )


def _channel_page(request: AuthenticatedRequest, channel: Channel, **forms: Any) -> HttpResponse:
    context = {
        "application": channel.application,
        "channel": channel,
        "to_help": CAPABILITIES[ChannelKind(channel.kind)].to_help,
        "form": forms.get("form") or ChannelForm(initial={"display_name": channel.display_name}),
        "test_form": forms.get("test_form") or TestMessageForm(channel=channel),
        "section": "applications",
    }
    return render(request, "settings/channel_detail.html", context)


@require_http_methods(["GET", "POST"])
@settings_admin_required
def channel_detail(request: AuthenticatedRequest, channel_id: int) -> HttpResponse:
    channel = selectors.admin_channel_for(request.user, channel_id)
    if request.method == "GET":
        return _channel_page(request, channel)
    form = ChannelForm(request.POST)
    if not form.is_valid():
        return _channel_page(request, channel, form=form)
    do_update_channel(actor=request.user, channel=channel, display_name=form.cleaned_data["display_name"])
    messages.success(request, _("Channel saved."))
    return redirect("settings:channel", channel.pk)


@require_POST
@settings_admin_required
def channel_active(request: AuthenticatedRequest, channel_id: int) -> HttpResponse:
    channel = selectors.admin_channel_for(request.user, channel_id)
    active = request.POST.get("active") == "1"
    channel = do_set_channel_active(actor=request.user, channel=channel, active=active)
    if active:
        text = _("%(name)s is active again.")
    else:
        text = _("%(name)s deactivated. Its conversations and messages are kept.")
    messages.success(request, text % {"name": channel.display_name})
    return redirect("settings:channel", channel.pk)


@require_POST
@settings_admin_required
def channel_test_message(request: AuthenticatedRequest, channel_id: int) -> HttpResponse:
    channel = selectors.admin_channel_for(request.user, channel_id)
    form = TestMessageForm(request.POST, channel=channel)
    if form.is_valid():
        try:
            result = do_send_test_message(channel=channel, **form.cleaned_data)
        except HubError as exc:
            form.add_error(None, hub_error_text(exc))
        except SettingsError as exc:
            form.add_error(None, str(exc))
        else:
            if result.accepted:
                messages.success(
                    request,
                    _("The Hub accepted the test message (%(status)s, id %(id)s).")
                    % {"status": result.status, "id": result.message_id},
                )
            else:
                messages.error(
                    request,
                    _("The channel refused the test message: %(reason)s.")
                    % {"reason": result.error_message or result.error_code},
                )
            return redirect("settings:channel", channel.pk)
    return _channel_page(request, channel, test_form=form)


# --- WhatsApp templates ---------------------------------------------------------------------------------


def _templates_page(
    request: AuthenticatedRequest, channel: Channel, form: WhatsAppTemplateForm
) -> HttpResponse:
    context = {
        "application": channel.application,
        "channel": channel,
        "templates": list(channel.templates.all()),
        "form": form,
        "section": "applications",
    }
    return render(request, "settings/channel_templates.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@settings_admin_required
def channel_templates(request: AuthenticatedRequest, channel_id: int) -> HttpResponse:
    """The channel's template library (WhatsApp only): list, and register one more."""
    channel = selectors.admin_channel_for(request.user, channel_id)
    if channel.kind != ChannelKind.WHATSAPP:
        raise Http404("Templates are WhatsApp-only.")
    form = WhatsAppTemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            template = do_add_template(actor=request.user, channel=channel, **form.cleaned_data)
        except SettingsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Template %(name)s added.") % {"name": template.name})
            return redirect("settings:channel_templates", channel.pk)
    return _templates_page(request, channel, form)


@require_POST
@settings_admin_required
def channel_template_delete(request: AuthenticatedRequest, channel_id: int, template_id: int) -> HttpResponse:
    channel = selectors.admin_channel_for(request.user, channel_id)
    template = get_object_or_404(WhatsAppTemplate, channel=channel, pk=template_id)
    do_delete_template(actor=request.user, template=template)
    messages.success(request, _("Template %(name)s removed.") % {"name": template.name})
    return redirect("settings:channel_templates", channel.pk)


# --- Webhooks -------------------------------------------------------------------------------------------


@require_GET
@settings_admin_required
def webhooks(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    hooks = {hook.event_type: hook for hook in application.hub_webhooks.all()}
    return render(
        request,
        "settings/webhooks.html",
        {
            "application": application,
            "has_signing_secret": application.signing_secrets.filter(active=True).exists(),
            "webhook_url": webhook_url(application),
            "webhook_rows": [
                (event, label, hooks.get(event)) for event, label in HubWebhook.EventType.choices
            ],
            "section": "applications",
        },
    )


@require_POST
@settings_admin_required
def webhooks_connect(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    try:
        hooks = do_connect_webhooks(application=application, actor=request.user)
    except HubError as exc:
        messages.error(
            request, _("Could not connect the webhooks. %(error)s") % {"error": hub_error_text(exc)}
        )
    else:
        unverified = [hook.event_type for hook in hooks if not hook.is_verified]
        if unverified:
            messages.warning(
                request,
                _(
                    "Webhooks registered, but the Hub could not verify %(events)s: check that %(url)s "
                    "reaches this server, then connect again."
                )
                % {"events": ", ".join(unverified), "url": webhook_url(application)},
            )
        else:
            messages.success(
                request, _("Webhooks connected and verified by the Hub; signatures are required.")
            )
    return redirect("settings:webhooks", application.pk)


@require_POST
@settings_admin_required
def webhooks_accept_unsigned(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    form = AcceptUnsignedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to accept unsigned events."))
        return redirect("settings:webhooks", application.pk)
    application = do_set_accept_unsigned(
        actor=request.user, application=application, accept=form.cleaned_data["accept"]
    )
    if application.accept_unsigned_events:
        messages.warning(
            request,
            _(
                "%(name)s now accepts unsigned events: anyone who knows its webhook URL can post messages "
                "into the inbox. Signed events are still checked."
            )
            % {"name": application.name},
        )
    else:
        messages.success(
            request,
            _("%(name)s accepts only events signed with one of its signing secrets again.")
            % {"name": application.name},
        )
    return redirect("settings:webhooks", application.pk)


@require_POST
@settings_admin_required
def webhooks_refresh(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    try:
        do_refresh_webhooks(application=application)
    except HubError as exc:
        messages.error(
            request, _("Could not read the webhooks from the Hub. %(error)s") % {"error": hub_error_text(exc)}
        )
    else:
        messages.success(request, _("Webhook status read from the Hub."))
    return redirect("settings:webhooks", application.pk)


@require_POST
@settings_admin_required
def webhooks_recover(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    try:
        summary = do_run_recovery(actor=request.user, application=application)
    except HubError as exc:
        messages.error(request, _("Recovery failed. %(error)s") % {"error": hub_error_text(exc)})
    else:
        messages.success(request, _("Recovery done: %(summary)s") % {"summary": summary})
    return redirect("settings:webhooks", application.pk)


def _logs_url(application: Application, event: str, status: str, page: int) -> str:
    query = urlencode({k: v for k, v in {"event": event, "status": status, "page": page}.items() if v})
    return f"{reverse('settings:webhook_logs', args=[application.pk])}?{query}"


@require_GET
@settings_admin_required
def webhook_logs(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    event, status, page = WebhookLogFilterForm(request.GET).values()
    logs = selectors.webhook_logs(application, event_type=event, status=status, page=page)
    return render(
        request,
        "settings/webhook_logs.html",
        {
            "application": application,
            "logs": logs,
            "event": event,
            "status": status,
            "event_choices": HubWebhook.EventType.choices,
            "previous_url": _logs_url(application, event, status, page - 1) if logs.has_previous else "",
            "next_url": _logs_url(application, event, status, page + 1) if logs.has_next else "",
            "hub_error": hub_error_text(logs.error) if logs.error else "",
            "section": "applications",
        },
    )


@require_POST
@settings_admin_required
def webhook_logs_retry(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    form = RetryLogsForm(request.POST)
    back = WebhookLogFilterForm(request.POST)
    event, status, page = back.values()
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(_logs_url(application, event, status, page))
    event = form.cleaned_data["event"]
    if not application.hub_webhooks.filter(event_type=event).exists():
        messages.error(request, _("Connect the webhooks first."))
        return redirect("settings:webhooks", application.pk)
    try:
        outcomes = do_retry_webhook_logs(
            actor=request.user,
            application=application,
            event_type=event,
            log_ids=form.cleaned_data["log_ids"],
        )
    except HubError as exc:
        messages.error(request, _("Retry failed. %(error)s") % {"error": hub_error_text(exc)})
    else:
        done = sum(1 for o in outcomes if o.success)
        already = sum(1 for o in outcomes if o.already_resent)
        refused = [o for o in outcomes if not o.success and not o.already_resent]
        if done:
            messages.success(
                request,
                ngettext(
                    "%(count)s delivery sent again: its outcome is in a new log.",
                    "%(count)s deliveries sent again: their outcome is in the new logs.",
                    done,
                )
                % {"count": done},
            )
        if already:
            # Asked before (here or by "Re-send failed deliveries"): asking again would deliver it twice.
            messages.info(
                request,
                ngettext(
                    "%(count)s delivery was already sent again: its outcome is in a newer log.",
                    "%(count)s deliveries were already sent again: their outcome is in newer logs.",
                    already,
                )
                % {"count": already},
            )
        if refused:
            reasons = "; ".join(sorted({o.error for o in refused if o.error})) or _("invalid or deleted log")
            messages.error(
                request,
                ngettext(
                    "%(count)s delivery could not be retried (%(reasons)s).",
                    "%(count)s deliveries could not be retried (%(reasons)s).",
                    len(refused),
                )
                % {"count": len(refused), "reasons": reasons},
            )
    return redirect(_logs_url(application, event, status, page))


# --- Team -------------------------------------------------------------------------------------------------


@require_GET
@settings_admin_required
def team(request: AuthenticatedRequest) -> HttpResponse:
    members = selectors.team(request.user).order_by("-is_active", "username")
    return render(request, "settings/team.html", {"members": members, "section": "team"})


@require_http_methods(["GET", "POST"])
@settings_admin_required
def user_create(request: AuthenticatedRequest) -> HttpResponse:
    applications = list(selectors.administered_applications(request.user))
    form = AgentCreateForm(request.POST or None, applications=applications)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = do_create_agent(
                actor=request.user,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                password=data["password"],
                access={a: role for a, role in form.access().items() if role},
            )
        except SettingsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(user)s can now sign in.") % {"user": user.get_username()})
            return redirect("settings:user", user.pk)
    return render(request, "settings/user_create.html", {"form": form, "section": "team"})


@require_http_methods(["GET", "POST"])
@settings_admin_required
def user_detail(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    member = selectors.managed_user_for(request.user, user_id)
    applications = list(selectors.administered_applications(request.user))
    form = AccessForm(request.POST or None, user=member, applications=applications)
    if request.method == "POST" and form.is_valid():
        try:
            do_set_access(actor=request.user, user=member, access=form.access())
        except SettingsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Access of %(user)s saved.") % {"user": member.get_username()})
            return redirect("settings:user", member.pk)
    return render(request, "settings/user_detail.html", {"member": member, "form": form, "section": "team"})


@require_POST
@settings_admin_required
def user_active(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    member = selectors.managed_user_for(request.user, user_id)
    active = request.POST.get("active") == "1"
    try:
        do_set_user_active(actor=request.user, user=member, active=active)
    except SettingsError as exc:
        messages.error(request, str(exc))
    else:
        if active:
            text = _("%(user)s reactivated.")
        else:
            text = _("%(user)s deactivated: they can no longer sign in; their history is kept.")
        messages.success(request, text % {"user": member.get_username()})
    return redirect("settings:user", member.pk)


# --- Audit log and health -------------------------------------------------------------------------------


@require_GET
@settings_admin_required
def audit_log(request: AuthenticatedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.audit_entries(
        request.user, application_id=filters.get("application"), before=filters.get("before")
    )
    next_url = ""
    if page.next_before:
        query = {"before": page.next_before, "application": filters.get("application") or ""}
        next_url = "?" + urlencode({k: v for k, v in query.items() if v})
    return render(
        request,
        "settings/audit.html",
        {
            "page": page,
            "entries": [audit.shown(entry) for entry in page.entries],
            "applications": selectors.administered_applications(request.user),
            "application_id": filters.get("application"),
            "next_url": next_url,
            "section": "audit",
        },
    )
