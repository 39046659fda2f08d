"""Messages to bookers through the message center."""

from messaging.services import message_send


def notify_booker(
    *,
    user_id: int,
    title: str,
    content: str,
    type: str = "notification",
    expires_at=None,
) -> None:
    """Send ``user_id`` a message-center message, in the caller's transaction.

    Sending inside the transaction makes the change and its message one unit: a cancellation is
    never committed without its notice, nor a notice sent for a cancellation rolled back.
    """
    message_send(title=title, content=content, type=type, recipient_ids=[user_id], expires_at=expires_at)
