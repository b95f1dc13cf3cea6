from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("volume/", views.volume, name="volume"),
    path("delivery/", views.delivery, name="delivery"),
    path("agents/", views.agents, name="agents"),
    path("conversations/", views.conversations, name="conversations"),
    path("export/<slug:table>.csv", views.export, name="export"),
]
