"""The 消息发送人 (message sender) role: a group staff add counsellors and other senders to.

It holds ``messaging.send`` and the view permissions the compose form's audience pickers need
(users, departments, classes, groups). Kept up to date after every ``migrate``.
"""

from django.contrib.auth.models import Group, Permission

SENDER_GROUP = "消息发送人"
SENDER_PERMISSIONS = (
    ("messaging", "send"),
    ("accounts", "view_user"),
    ("accounts", "view_department"),
    ("accounts", "view_schoolclass"),
    ("accounts", "view_campusgroup"),
)


def ensure_sender_group(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=SENDER_GROUP)
    permissions = [
        Permission.objects.filter(content_type__app_label=app, codename=codename).first()
        for app, codename in SENDER_PERMISSIONS
    ]
    group.permissions.add(*[p for p in permissions if p is not None])
    return group
