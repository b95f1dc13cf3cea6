from django.urls import path

from conversations.views import review

app_name = "review"

urlpatterns = [
    path("", review.review_list, name="list"),
    path("export.csv", review.review_export, name="export"),
    path("messages/<int:message_id>/", review.review_message, name="message"),
    path("retry/", review.review_retry, name="retry"),
]
