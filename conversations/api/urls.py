"""Conversations under ``/api/v1/`` (seed 001's style: no trailing slashes)."""

from django.urls import path

from . import views

app_name = "conversations"

urlpatterns = [
    path("conversations", views.ConversationListView.as_view(), name="conversation-list"),
    path("conversations/direct", views.DirectStartView.as_view(), name="conversation-direct"),
    path("conversations/groups", views.GroupCreateView.as_view(), name="conversation-group-create"),
    path("conversations/unread", views.UnreadView.as_view(), name="conversation-unread"),
    path("conversations/send", views.SendManyView.as_view(), name="conversation-send-many"),
    path("conversations/events", views.EventsView.as_view(), name="conversation-events"),
    path("conversations/blocks/<int:user_id>", views.BlockView.as_view(), name="conversation-block"),
    path(
        "conversations/<int:conversation_id>",
        views.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<int:conversation_id>/messages", views.MessageListView.as_view(), name="message-list"
    ),
    path("conversations/<int:conversation_id>/read", views.ReadView.as_view(), name="conversation-read"),
    path("conversations/<int:conversation_id>/members", views.MemberListView.as_view(), name="member-list"),
    path(
        "conversations/<int:conversation_id>/members/<int:user_id>",
        views.MemberDetailView.as_view(),
        name="member-detail",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/recall",
        views.MessageRecallView.as_view(),
        name="message-recall",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/file",
        views.MessageFileView.as_view(),
        name="message-file",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/report",
        views.MessageReportView.as_view(),
        name="message-report",
    ),
    path("presence/ping", views.PresencePingView.as_view(), name="presence-ping"),
]
