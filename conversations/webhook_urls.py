from django.urls import path

from conversations import webhook

urlpatterns = [
    path("webhook/<uuid:public_id>/", webhook.hub_webhook, name="hub_webhook"),
]
