"""Placeholders filled per recipient (消息群发助手) and the text each recipient then sees.

Placeholders are written in braces — ``{姓名}``, ``{班级}`` … (``PLACEHOLDERS``); any other name in
braces is refused (400 naming it), so a typo never reaches students as 「{性名}同学」. A message sent
with placeholders (from a template, the H5 compose page or the admin) keeps its own text (what the
sender sees) and gets, per recipient row, the filled title and content (``RecipientText``). The
recipient's shapes (API, H5 pages, WeChat/e-mail pushes) show that text; editing the message's
text fills them again (``personal_texts_refresh``, called by ``services.message_update``).
"""

import re
from dataclasses import replace

from django.conf import settings

from wechathhu.core.errors import ApplicationError

from .errors import MessagingErrorCode
from .models import MessageRecipient, RecipientText

PLACEHOLDER_RE = re.compile(r"\{([^{}\s]{1,20})\}")


def _class_name(user) -> str:
    return user.school_class.name if user.school_class_id else ""


def _department_name(user) -> str:
    return user.department.name if user.department_id else ""


# Placeholder → how it is filled from the recipient (a ``User`` with department and class loaded).
PLACEHOLDERS = {
    "姓名": lambda u: u.full_name or u.username,
    "班级": _class_name,
    "系所": _department_name,
    "学院": _department_name,
    "学号": lambda u: u.username,
    "工号": lambda u: u.username,
    "用户名": lambda u: u.username,
}


def placeholders_in(*texts: str) -> list[str]:
    """The placeholder names used in ``texts``, in order of first use."""
    seen: list[str] = []
    for text in texts:
        for name in PLACEHOLDER_RE.findall(text or ""):
            if name not in seen:
                seen.append(name)
    return seen


def check_placeholders(*, title: str, content: str) -> list[str]:
    """The (known) placeholders of a text; unknown ones are a 400 naming them."""
    used = placeholders_in(title, content)
    unknown = [name for name in used if name not in PLACEHOLDERS]
    if unknown:
        raise ApplicationError(
            f"未知的占位符：{'、'.join('{' + n + '}' for n in unknown)}；"
            f"可用：{'、'.join('{' + n + '}' for n in PLACEHOLDERS)}。",
            field="content",
            code=MessagingErrorCode.UNKNOWN_PLACEHOLDERS,
            extra={"unknown_placeholders": unknown},
        )
    return used


def render(text: str, user) -> str:
    return PLACEHOLDER_RE.sub(
        lambda m: PLACEHOLDERS[m.group(1)](user) if m.group(1) in PLACEHOLDERS else m.group(0), text
    )


def personal_texts_write(*, message, title: str, content: str, only_missing: bool = False) -> int:
    """Write each recipient's filled title and content (batches of ``MESSAGING_RECIPIENT_BATCH_SIZE``);
    returns the rows written. ``only_missing``: for the recipient rows that have none yet. Must run
    inside the sending transaction."""
    batch_size = settings.MESSAGING_RECIPIENT_BATCH_SIZE
    rows = MessageRecipient.objects.filter(message=message)
    if only_missing:
        rows = rows.filter(personal_text__isnull=True)
    rows = rows.select_related("recipient__department", "recipient__school_class").order_by("id")
    written, batch = 0, []
    for row in rows.iterator(chunk_size=batch_size):
        user = row.recipient
        batch.append(
            RecipientText(
                recipient_row_id=row.pk, title=render(title, user)[:200], content=render(content, user)
            )
        )
        if len(batch) >= batch_size:
            RecipientText.objects.bulk_create(batch)
            written, batch = written + len(batch), []
    RecipientText.objects.bulk_create(batch)
    return written + len(batch)


def personal_texts_refresh(*, message) -> None:
    """After the text of a message sent with placeholders changed: fill it again per recipient
    (unknown placeholders are a 400). A message sent without placeholders is left as it is."""
    existing = RecipientText.objects.filter(recipient_row__message=message)
    if not existing.exists():
        return
    check_placeholders(title=message.title, content=message.content)
    existing.delete()
    personal_texts_write(message=message, title=message.title, content=message.content)


def personal_texts_add(*, message) -> int:
    """After recipients were added to a message sent with placeholders: fill it for them too."""
    if not RecipientText.objects.filter(recipient_row__message=message).exists():
        return 0
    return personal_texts_write(
        message=message, title=message.title, content=message.content, only_missing=True
    )


def personal_content(content, *, message_id: int, recipient_id: int):
    """A push's ``Content`` with the recipient's own title and text when the message was filled
    per recipient (``delivery.delivery_send``); else ``content`` unchanged."""
    text = (
        RecipientText.objects.filter(
            recipient_row__message_id=message_id, recipient_row__recipient_id=recipient_id
        )
        .values_list("title", "content")
        .first()
    )
    if text is None:
        return content
    return replace(content, title=text[0], text=text[1])
