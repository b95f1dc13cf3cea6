from django.urls import path

from conversations.views import contacts, inbox, media, teamwork, triage

urlpatterns = [
    path("", inbox.home, name="home"),
    path("conversations/<int:conversation_id>/", inbox.conversation_detail, name="conversation"),
    path("conversations/<int:conversation_id>/messages/", inbox.thread_messages, name="thread_messages"),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/timeline/",
        inbox.message_timeline_view,
        name="message_timeline",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/retry/",
        inbox.retry,
        name="message_retry",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/react/",
        inbox.react,
        name="message_react",
    ),
    path("conversations/<int:conversation_id>/reply/", inbox.reply, name="reply"),
    path("media/<str:token>/<str:name>", media.signed_media, name="signed_media"),
    path("conversations/<int:conversation_id>/assign/", inbox.assign, name="assign"),
    path("conversations/<int:conversation_id>/status/", inbox.set_status, name="set_status"),
    path("conversations/<int:conversation_id>/unread/", inbox.mark_unread, name="mark_unread"),
    path("conversations/<int:conversation_id>/contact/", inbox.rename_contact, name="rename_contact"),
    path("conversations/<int:conversation_id>/read/", inbox.mark_read, name="mark_read"),
    path("conversations/<int:conversation_id>/notes/", teamwork.add_note, name="add_note"),
    path("conversations/<int:conversation_id>/labels/", teamwork.set_label, name="set_label"),
    path("mentions/", teamwork.mentions, name="mentions"),
    path("conversations/<int:conversation_id>/snooze/", triage.snooze, name="snooze"),
    path("conversations/bulk/", triage.bulk, name="bulk_action"),
    path(
        "conversations/<int:conversation_id>/contact/candidates/", contacts.candidates, name="link_candidates"
    ),
    path("conversations/<int:conversation_id>/contact/link/", contacts.link, name="link_contact"),
    path("conversations/<int:conversation_id>/contact/unlink/", contacts.unlink, name="unlink_contact"),
    path("conversations/<int:conversation_id>/contact/notes/", contacts.notes, name="contact_notes"),
]
