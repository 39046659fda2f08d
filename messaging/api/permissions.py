from rest_framework.permissions import BasePermission

from messaging import selectors


class CanSendMessages(BasePermission):
    """The sender endpoints (``/api/v1/admin/messages…``): ``messaging.send`` or staff."""

    message = "您没有发送消息的权限。"

    def has_permission(self, request, view) -> bool:
        return selectors.user_can_send(user=request.user)


class CanSendGlobalMessages(CanSendMessages):
    """``messaging.send_global`` (or a superuser)."""

    message = "您没有发送全局消息的权限。"

    def has_permission(self, request, view) -> bool:
        return selectors.user_can_send_global(user=request.user)
