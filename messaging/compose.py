"""Composing a message in one step from the H5 compose page and the admin: the text (placeholders
filled per recipient, ``templates_service``) and its attachments (``attachments``), all in one
transaction — a refused file sends nothing."""

from django.db import transaction

from . import attachments, templates_service
from .models import Message


@transaction.atomic
def message_compose(*, sender, uploads=(), **fields) -> Message:
    """Create the message (``message_create``'s rules) and attach ``uploads``; returns it."""
    uploads = list(uploads)
    for upload in uploads:  # refuse a bad file before anything is written
        attachments.check_upload(upload)
    message = templates_service.message_create_personalised(sender=sender, **fields)
    if uploads:
        attachments.attachments_add(message=message, uploads=uploads, user=sender)
    return message
