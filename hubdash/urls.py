from django.contrib import admin
from django.urls import include, path

# The Django admin is for superusers only: admins of an Application use the settings area, which checks
# per-Application access; staff flags and model permissions would not.
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The Hub posts here: kept short and outside the session/CSRF world (see conversations/webhook.py).
    path("hub/", include("conversations.webhook_urls")),
    path("api/", include("channels_app.api")),
    path("review/", include("conversations.review_urls")),
    path("settings/", include("channels_app.settings_urls")),
    path("", include("channels_app.urls")),
    path("", include("conversations.urls")),
]
