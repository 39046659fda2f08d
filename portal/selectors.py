"""Reads of the portal itself: a user's signed-in browsers."""

from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .models import PageSession


def page_session_list(*, user) -> QuerySet[PageSession]:
    """``user``'s browser sessions that are still alive, newest first (one query)."""
    alive = Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=timezone.now())
    return PageSession.objects.filter(user=user).filter(Exists(alive)).order_by("-created_at", "-id")
