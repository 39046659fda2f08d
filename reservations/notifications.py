"""Messages to bookers through the message center (sent after the transaction commits)."""

from django.db import transaction


def notify_booker(*, user_id: int, title: str, content: str, type: str = "notification") -> None:  # noqa: A002
    """Send ``user_id`` a message-center message once the current transaction has committed."""
    from messaging.services import message_send

    transaction.on_commit(
        lambda: message_send(title=title, content=content, type=type, recipient_ids=[user_id])
    )
