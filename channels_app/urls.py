from django.urls import path

from channels_app import account_views, views

urlpatterns = [
    path("applications/", views.application_list, name="application_list"),
    path("profile/", account_views.profile, name="profile"),
    path("profile/notifications/", account_views.notification_settings, name="notification_settings"),
]
