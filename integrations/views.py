"""The integrations pages: a user's API tokens (/profile/api-tokens/), and an Application's outgoing
webhooks with their delivery log (in the settings area, admins only: agents 403, other tenants 404).

A token or a signing secret is shown once, in the answer to the POST that made it, never stored in a
session or a message, and never shown again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from channels_app.access import AuthenticatedRequest, application_for
from channels_app.views import settings_admin_required
from integrations.actions.deliveries import DeliveryError, do_resend_delivery
from integrations.actions.subscriptions import (
    SubscriptionError,
    do_create_subscription,
    do_delete_subscription,
    do_rotate_secret,
    do_update_subscription,
)
from integrations.actions.tokens import TokenError, do_create_token, do_revoke_token
from integrations.forms import SubscriptionForm, TokenForm
from integrations.selectors import (
    deliveries_page,
    delivery_for,
    subscription_for,
    subscriptions_of,
    tokens_of,
)

LOG_PAGE_SIZE = 50


# --- API tokens (every user) ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def api_tokens(request: AuthenticatedRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            made = do_create_token(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except TokenError as error:
            form.add_error(None, str(error))
        else:
            secret = made.secret
            form = TokenForm()
    context = {"form": form, "tokens": list(tokens_of(request.user)), "new_secret": secret}
    return render(request, "integrations/api_tokens.html", context, status=200)


@require_POST
@login_required
def api_token_revoke(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    token = do_revoke_token(user=request.user, token_id=token_id)
    if token is None:
        raise Http404(_("No such token."))
    messages.success(request, _("Token “%(name)s” revoked: it no longer works.") % {"name": token.name})
    return redirect("api_tokens")


# --- outgoing webhooks (admins) -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@settings_admin_required
def outgoing_webhooks(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    application = application_for(request.user, application_id, admin=True)
    form = SubscriptionForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        try:
            made = do_create_subscription(actor=request.user, application=application, **form.cleaned_data)
        except SubscriptionError as error:
            form.add_error(error.field or None, str(error))
        else:
            form = SubscriptionForm()
    context = {
        "application": application,
        "subscriptions": list(subscriptions_of(application)),
        "form": form,
        "created": made,
        "section": "applications",
    }
    return render(request, "settings/outgoing_webhooks.html", context)


@require_http_methods(["GET", "POST"])
@settings_admin_required
def outgoing_webhook(request: AuthenticatedRequest, subscription_id: int) -> HttpResponse:
    """One subscription: change it (or turn it back on) and read its delivery log."""
    subscription = subscription_for(request.user, subscription_id)
    initial = {
        "url": subscription.url,
        "events": subscription.events,
        "description": subscription.description,
    }
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            do_update_subscription(
                actor=request.user,
                subscription=subscription,
                active=request.POST.get("active") == "1",
                **form.cleaned_data,
            )
        except SubscriptionError as error:
            form.add_error(error.field or None, str(error))
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("settings:outgoing_webhook", subscription.pk)
    status = request.GET.get("status", "")
    before = request.GET.get("before", "")
    page = deliveries_page(
        subscription=subscription,
        status=status if status in ("pending", "delivered", "failed") else "",
        before=int(before) if before.isdigit() and len(before) < 19 else None,
        limit=LOG_PAGE_SIZE,
    )
    context = {
        "application": subscription.application,
        "subscription": subscription,
        "form": form,
        "page": page,
        "status": status,
        "section": "applications",
    }
    return render(request, "settings/outgoing_webhook_detail.html", context)


@require_POST
@settings_admin_required
def outgoing_webhook_rotate(request: AuthenticatedRequest, subscription_id: int) -> HttpResponse:
    subscription = subscription_for(request.user, subscription_id)
    made = do_rotate_secret(actor=request.user, subscription=subscription)
    context = {
        "application": subscription.application,
        "subscriptions": list(subscriptions_of(subscription.application)),
        "form": SubscriptionForm(),
        "created": made,
        "rotated": True,
        "section": "applications",
    }
    return render(request, "settings/outgoing_webhooks.html", context)


@require_POST
@settings_admin_required
def outgoing_webhook_delete(request: AuthenticatedRequest, subscription_id: int) -> HttpResponse:
    subscription = subscription_for(request.user, subscription_id)
    application_id = subscription.application_id
    do_delete_subscription(actor=request.user, subscription=subscription)
    messages.success(request, _("Webhook removed."))
    return redirect("settings:outgoing_webhooks", application_id)


@require_POST
@settings_admin_required
def outgoing_webhook_resend(
    request: AuthenticatedRequest, subscription_id: int, delivery_id: int
) -> HttpResponse:
    subscription = subscription_for(request.user, subscription_id)
    try:
        do_resend_delivery(delivery=delivery_for(subscription, delivery_id))
    except DeliveryError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Delivery queued to be sent again."))
    return redirect("settings:outgoing_webhook", subscription.pk)
