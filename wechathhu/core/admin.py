"""Admin pieces shared by every outbox delivery model (``wechathhu.core.outbox``)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wechathhu.core import outbox

# The delivery columns, in the order every delivery admin shows them after its own.
OUTBOX_LIST_DISPLAY = (
    "status",
    "reason",
    "attempts",
    "error_code",
    "next_attempt_at",
    "sent_at",
    "last_error",
)
OUTBOX_FIELDS = (*OUTBOX_LIST_DISPLAY, "idempotency_key", "created_at", "updated_at")


class OutboxAdminMixin:
    """Read-only delivery rows with their state, filterable by status and reason, and an action
    that sends the unsent ones again (fresh attempts for the failed and skipped)."""

    list_filter = ("status", "reason")
    actions = ("outbox_retry",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("立即重发（仅未送达的）"), permissions=("view",))
    def outbox_retry(self, request, queryset):
        count = outbox.retry(queryset)
        self.message_user(request, f"已重新排队 {count} 条未送达的记录。")
