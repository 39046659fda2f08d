"""seed 001's paths, exactly (no trailing slashes), mounted at ``/api/v1/``."""

from django.urls import path

from . import content_views, delivery_views, engagement_views, views

app_name = "messaging"

urlpatterns = [
    path("messages", views.UserMessageListView.as_view(), name="message-list"),
    path("messages/read", views.MessageReadView.as_view(), name="message-read"),
    path("messages/archive", views.MessageArchiveView.as_view(), name="message-archive"),
    path("messages/unread-count", views.UnreadCountView.as_view(), name="message-unread-count"),
    path("messages/stats", views.MessageStatsView.as_view(), name="message-stats"),
    path("messages/<int:pk>", views.UserMessageDetailView.as_view(), name="message-detail"),
    # --- issue 20: categories, preferences, … ---
    path("categories", engagement_views.CategoryListView.as_view(), name="category-list"),
    path("messages/preferences", engagement_views.PreferencesView.as_view(), name="message-preferences"),
    path("admin/audiences", engagement_views.AudienceListView.as_view(), name="admin-audience-list"),
    path("admin/messages", views.AdminMessageListView.as_view(), name="admin-message-list"),
    path("admin/messages/global", views.AdminGlobalMessageView.as_view(), name="admin-message-global"),
    path("admin/messages/<int:pk>", views.AdminMessageDetailView.as_view(), name="admin-message-detail"),
    path(
        "admin/messages/<int:pk>/detail",
        views.AdminMessageFullDetailView.as_view(),
        name="admin-message-full-detail",
    ),
    path(
        "admin/messages/<int:pk>/delivery",
        delivery_views.AdminMessageDeliveryView.as_view(),
        name="admin-message-delivery",
    ),
    path(
        "admin/messages/<int:pk>/recipients",
        views.AdminMessageRecipientsView.as_view(),
        name="admin-message-recipients",
    ),
    # --- issue 20 items 4, 6, 8: attachments, the hot list, templates ---
    path("messages/hot", content_views.HotMessageListView.as_view(), name="message-hot"),
    path(
        "messages/<int:pk>/attachments/<int:attachment_id>",
        content_views.AttachmentDownloadView.as_view(),
        name="message-attachment-download",
    ),
    path(
        "admin/messages/<int:pk>/attachments",
        content_views.AdminAttachmentListView.as_view(),
        name="admin-message-attachments",
    ),
    path(
        "admin/messages/<int:pk>/attachments/<int:attachment_id>",
        content_views.AdminAttachmentDetailView.as_view(),
        name="admin-message-attachment-detail",
    ),
    path("admin/templates", content_views.TemplateListView.as_view(), name="admin-template-list"),
    path(
        "admin/templates/from-message",
        content_views.TemplateFromMessageView.as_view(),
        name="admin-template-from-message",
    ),
    path(
        "admin/templates/<int:pk>", content_views.TemplateDetailView.as_view(), name="admin-template-detail"
    ),
    path(
        "admin/templates/<int:pk>/send", content_views.TemplateSendView.as_view(), name="admin-template-send"
    ),
]
