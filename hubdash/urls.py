from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from channels_app.account_views import SignInView
from hubdash.security import email_required

# The Django admin is for superusers only: admins of an Application use the settings area, which checks
# per-Application access; staff flags and model permissions would not.
# (A deliberate patch of the default site's method, which the stubs declare read-only.)
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser  # type: ignore[method-assign]

# django.contrib.auth.urls, with the password-reset pages answering 404 while no email can be sent.
account_urls = [
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password_reset/", email_required(auth_views.PasswordResetView.as_view()), name="password_reset"),
    path(
        "password_reset/done/",
        email_required(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        email_required(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        email_required(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    # The Hub posts here: kept short and outside the session/CSRF world (see conversations/webhook.py).
    path("hub/", include("conversations.webhook_urls")),
    # The public API (integrations/): tokens, OpenAPI schema and docs, JSON errors everywhere under it.
    path("api/v1/", include("integrations.api.urls")),
    path("api/", include("channels_app.api")),
    # The translations of our scripts (static/js), in the request's language: gettext()/ngettext() in JS.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("review/", include("conversations.review_urls")),
    path("reports/", include("reports.urls")),
    path("settings/", include("integrations.settings_urls")),
    path("", include("channels_app.urls")),
    path("", include("integrations.urls")),
    path("", include("conversations.urls")),
]
