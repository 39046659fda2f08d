"""The text one recipient sees of a message sent from a template with placeholders (``RecipientText``,
written by ``messaging.templates_service.template_send``)."""

from dataclasses import replace

from .models import RecipientText


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
