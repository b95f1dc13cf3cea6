from django.urls import path

from conversations.consumers import InboxConsumer

# Channels routes ASGI apps with Django's path(); django-stubs' path() only knows views.
websocket_urlpatterns = [path("ws/inbox/", InboxConsumer.as_asgi())]  # type: ignore[arg-type]
