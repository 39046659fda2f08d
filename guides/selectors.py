"""Reads for guides, shaped for their consumers (no serializer ever causes a query)."""

from django.db.models import QuerySet

from wechathhu.core.errors import NotFoundError

from .models import Guide

GUIDE_NOT_FOUND = "该指南不存在或尚未发布。"


def guide_list_published() -> QuerySet[Guide]:
    """Published guides, newest first, with their category (the mini-program list)."""
    return Guide.objects.filter(is_published=True).select_related("category").order_by("-created_at", "-id")


def guide_get_published(*, guide_id: int) -> Guide:
    """A published guide, or ``NotFoundError`` (an unpublished one is not revealed)."""
    guide = guide_list_published().filter(pk=guide_id).first()
    if guide is None:
        raise NotFoundError(GUIDE_NOT_FOUND)
    return guide


def guide_get_for_download(*, user, guide_id: int) -> Guide:
    """The guide ``user`` may download: any published one; staff also get unpublished ones."""
    queryset = Guide.objects.select_related("category")
    if not (user and user.is_authenticated and user.is_staff):
        queryset = queryset.filter(is_published=True)
    guide = queryset.filter(pk=guide_id).first()
    if guide is None:
        raise NotFoundError(GUIDE_NOT_FOUND)
    return guide
