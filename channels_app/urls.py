from django.urls import path

from channels_app import views

urlpatterns = [
    path("applications/", views.application_list, name="application_list"),
]
