from django.urls import path

from integrations import views

urlpatterns = [
    path("profile/api-tokens/", views.api_tokens, name="api_tokens"),
    path("profile/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
