from django.urls import path

from conversations.views import inbox

urlpatterns = [
    path("", inbox.home, name="home"),
]
