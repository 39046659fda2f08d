"""Message categories (issue 20 item 1): the list users pick from, and the checks senders pass.

Staff manage categories in the admin (消息中心 → 消息分类); a message may have one.
"""

from __future__ import annotations

from django.db.models import QuerySet

from wechathhu.core.errors import ApplicationError

from .errors import MessagingErrorCode
from .models import Category


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    """Categories in their staff-given order (active ones only, unless ``include_inactive``)."""
    queryset = Category.objects.order_by("position", "id")
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset


def category_for_message(*, category_id: int | None, current_id: int | None = None) -> int | None:
    """Check that a sender may put a message in ``category_id`` (``None``: no category).

    A disabled category cannot be chosen for a new message, but a message already in it keeps it
    (``current_id``). Unknown ids are a 400 naming them.
    """
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).values("pk", "name", "is_active").first()
    if category is None:
        raise ApplicationError(
            f"消息分类不存在：{category_id}。", field="category_id", code=MessagingErrorCode.UNKNOWN_CATEGORY
        )
    if not category["is_active"] and category_id != current_id:
        raise ApplicationError(
            f"消息分类“{category['name']}”已停用，请选择其他分类。",
            field="category_id",
            code=MessagingErrorCode.UNKNOWN_CATEGORY,
        )
    return category_id
