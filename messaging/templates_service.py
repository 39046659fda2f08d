"""Message templates (消息群发助手): save a message for reuse, send it to a new audience in one step,
with placeholders filled per recipient.

Placeholders are written in braces — ``{姓名}``, ``{班级}`` … (``PLACEHOLDERS``). Any other name in
braces is refused (400 naming it), so a typo never reaches students as 「{性名}同学」. A message sent
from a template with placeholders keeps the template's text (what the sender sees) and writes, for
each recipient row, the filled title and content (``RecipientText``); the recipient's shapes (API,
H5 pages, WeChat/e-mail pushes) show that text. Such a message must be targeted: a global message has
no per-user rows to fill.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from wechathhu.core.errors import ApplicationError, ForbiddenError, NotFoundError
from wechathhu.core.services import model_update

from . import categories, selectors, services
from .errors import MessagingErrorCode
from .models import Message, MessageTemplate
from .personal_text import PLACEHOLDERS, check_placeholders, personal_texts_write, placeholders_in, render

__all__ = ["PLACEHOLDERS", "check_placeholders", "placeholders_in", "render"]

TEMPLATE_NOT_FOUND = "模板不存在。"
# --- Templates ---------------------------------------------------------------------------------


def _require_sender(user: User) -> None:
    if not selectors.user_can_send(user=user):
        raise ForbiddenError("您没有发送消息的权限。", code=MessagingErrorCode.SEND_NOT_ALLOWED)


def template_list(*, user: User):
    """My templates and the shared ones, most recently changed first."""
    from django.db.models import Q

    return MessageTemplate.objects.filter(Q(owner=user) | Q(is_shared=True)).select_related("category")


def template_get(*, user: User, template_id: int, for_change: bool = False) -> MessageTemplate:
    """A template ``user`` may use (theirs or shared); ``for_change``: 403 unless it is theirs."""
    template = template_list(user=user).filter(pk=template_id).first()
    if template is None:
        raise NotFoundError(TEMPLATE_NOT_FOUND)
    if for_change and template.owner_id != user.pk:
        raise ForbiddenError("只有模板的创建者可以修改或删除模板。", code=MessagingErrorCode.NOT_THE_SENDER)
    return template


@transaction.atomic
def template_create(
    *,
    owner: User,
    name: str,
    title: str,
    content: str = "",
    type: str = "notification",  # noqa: A002 - the message's field name
    priority: str = "normal",
    category_id: int | None = None,
    is_shared: bool = False,
) -> MessageTemplate:
    _require_sender(owner)
    check_placeholders(title=title, content=content)
    template = MessageTemplate(
        owner=owner,
        name=name,
        title=title,
        content=content,
        type=type,
        priority=priority,
        category_id=categories.category_for_message(category_id=category_id),
        is_shared=is_shared,
    )
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_update(*, template: MessageTemplate, data: dict) -> MessageTemplate:
    title = data.get("title", template.title)
    content = data.get("content", template.content)
    check_placeholders(title=title, content=content)
    if "category_id" in data:
        categories.category_for_message(category_id=data["category_id"], current_id=template.category_id)
    model_update(
        instance=template,
        fields=("name", "title", "content", "type", "priority", "category_id", "is_shared"),
        data=data,
    )
    return template


@transaction.atomic
def template_delete(*, template: MessageTemplate) -> None:
    template.delete()


@transaction.atomic
def template_from_message(*, user: User, message_id: int, name: str = "") -> MessageTemplate:
    """Save a message ``user`` sees as a sender as a new template of theirs."""
    message = selectors.message_get_for_sender(user=user, message_id=message_id)
    return template_create(
        owner=user,
        name=name or message.title[:100],
        title=message.title,
        content=message.content,
        type=message.type,
        priority=message.priority,
        category_id=message.category_id if message.category and message.category.is_active else None,
    )


# --- Sending -------------------------------------------------------------------------------------


@transaction.atomic
def message_create_personalised(*, sender: User, title: str, content: str = "", **fields) -> Message:
    """``services.message_create`` for a text that may hold placeholders: unknown ones are a 400,
    known ones need a targeted message and are filled per recipient. Returns the message."""
    used = check_placeholders(title=title, content=content)
    if used and fields.get("is_global"):
        raise ApplicationError(
            "含占位符的消息不能作为全局消息发送（全局消息没有逐人的内容），请选择接收者。",
            field="is_global",
            code=MessagingErrorCode.PLACEHOLDERS_NEED_RECIPIENTS,
        )
    message = services.message_create(sender=sender, title=title, content=content, **fields)
    if used:
        personal_texts_write(message=message, title=title, content=content)
    return message


@transaction.atomic
def template_send(*, template: MessageTemplate, sender: User, **audience) -> Message:
    """Send ``template`` to a new audience (``message_create``'s rules: who may send to what, at
    least one recipient) and fill its placeholders per recipient. Returns the message."""
    category_id = template.category_id
    if category_id is not None and not (template.category and template.category.is_active):
        category_id = None
    return message_create_personalised(
        sender=sender,
        title=template.title,
        content=template.content,
        type=template.type,
        priority=template.priority,
        category_id=category_id,
        **audience,
    )
