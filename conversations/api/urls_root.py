"""Conversations' path at the mini-program root: ``GET /friends/``."""

from django.urls import path

from .friends import FriendListView

app_name = "conversations-root"

urlpatterns = [path("friends/", FriendListView.as_view(), name="friend-list")]
