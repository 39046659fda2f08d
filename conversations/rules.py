"""Who may start a conversation with whom (issue 14 item 1): the one owner of the rule.

``CONVERSATIONS_START_RULES`` lists the rules in force (staff may drop some to restrict):

* ``colleagues``: two teachers or staff of the same department;
* ``friends``: the other person added me as a friend (friendship counts in the owner's direction,
  as for the directory's privacy: adding someone gives you nothing; being added by them does);
* ``audiences``: a counsellor or head teacher and the students of their class, a group manager and
  the group's members, both ways (``accounts.selectors.user_managed_audiences``);
* ``staff``: a member of staff with anyone, both ways (the college's offices).

Whatever the rules, nobody writes to someone who blocked them, and a user staff banned from
messaging writes to nobody. An existing conversation stays usable when the rules change.
"""

from functools import cached_property

from django.conf import settings
from django.db.models import Q

from accounts.models import Friendship, GroupMembership, SchoolClass, User, UserKind
from accounts.selectors import user_managed_audiences

from .errors import ConversationsErrorCode as Code
from .models import MessagingBan, UserBlock

REFUSALS = {
    Code.SELF: "不能与自己开始会话。",
    Code.USER_INACTIVE: "该用户不存在或已停用。",
    Code.BLOCKED: "对方已屏蔽你，无法发送消息。",
    Code.MESSAGING_BANNED: "你已被管理员禁止发送消息。",
    Code.NOT_ALLOWED: "你不能与该用户开始会话（仅限同系所同事、把你加为好友的人、你的班级或分组成员）。",
}
COLLEAGUE_KINDS = (UserKind.TEACHER, UserKind.STAFF)


class StartPolicy:
    """The rules as seen by one ``starter``; build one per request. A few queries in its lifetime
    (each loaded on first need), and at most one per other user checked (group memberships)."""

    def __init__(self, starter: User):
        self.starter = starter
        self.rules = set(settings.CONVERSATIONS_START_RULES)

    @cached_property
    def banned(self) -> bool:
        return MessagingBan.objects.filter(user_id=self.starter.pk).exists()

    @cached_property
    def blocked_by(self) -> frozenset[int]:
        return frozenset(
            UserBlock.objects.filter(blocked_id=self.starter.pk).values_list("blocker_id", flat=True)
        )

    @cached_property
    def added_me(self) -> frozenset[int]:
        return frozenset(
            Friendship.objects.filter(friend_id=self.starter.pk).values_list("user_id", flat=True)
        )

    @cached_property
    def managed(self):
        return user_managed_audiences(user=self.starter)

    @cached_property
    def my_managers(self) -> frozenset[int]:
        """The counsellors and head teacher of my class and the managers of my groups."""
        ids = set()
        class_id = self.starter.school_class_id
        if class_id:
            ids.update(
                SchoolClass.counsellors.through.objects.filter(schoolclass_id=class_id).values_list(
                    "user_id", flat=True
                )
            )
            head = SchoolClass.objects.filter(pk=class_id).values_list("head_teacher_id", flat=True).first()
            if head:
                ids.add(head)
        ids.update(
            GroupMembership.objects.filter(
                is_manager=True,
                group_id__in=GroupMembership.objects.filter(user_id=self.starter.pk).values("group_id"),
            ).values_list("user_id", flat=True)
        )
        return frozenset(ids)

    def _audience(self, other: User) -> bool:
        if other.school_class_id and other.school_class_id in self.managed.class_ids:
            return True
        if other.pk in self.my_managers:
            return True
        return (
            bool(self.managed.group_ids)
            and GroupMembership.objects.filter(user_id=other.pk, group_id__in=self.managed.group_ids).exists()
        )

    def allows_start(self, other: User) -> bool:
        """The rules in force let the starter start a conversation with ``other`` (no block checks)."""
        starter, rules = self.starter, self.rules
        if "staff" in rules and (starter.is_staff or other.is_staff):
            return True
        if (
            "colleagues" in rules
            and starter.department_id is not None
            and starter.department_id == other.department_id
            and starter.kind in COLLEAGUE_KINDS
            and other.kind in COLLEAGUE_KINDS
        ):
            return True
        if "friends" in rules and other.pk in self.added_me:
            return True
        return "audiences" in rules and self._audience(other)

    def write_refusal(self, other_id: int) -> Code | None:
        """Why the starter may not write to ``other_id`` at all (banned, blocked), or None."""
        if self.banned:
            return Code.MESSAGING_BANNED
        if other_id in self.blocked_by:
            return Code.BLOCKED
        return None

    def start_refusal(self, other: User | None) -> Code | None:
        """Why the starter may not start a conversation with ``other``, or None when they may."""
        if other is None or not other.is_active:
            return Code.USER_INACTIVE
        if other.pk == self.starter.pk:
            return Code.SELF
        refusal = self.write_refusal(other.pk)
        if refusal:
            return refusal
        if not self.allows_start(other):
            return Code.NOT_ALLOWED
        return None


def contactable_q(starter: User) -> Q:
    """``Q`` on ``User`` for the people the rules let ``starter`` start with (for pickers; not
    counting blocks). Sub-queries only."""
    rules = set(settings.CONVERSATIONS_START_RULES)
    q = Q(pk__in=[])
    if "staff" in rules:
        if starter.is_staff:
            return Q(is_active=True) & ~Q(pk=starter.pk)
        q |= Q(is_staff=True)
    if "colleagues" in rules and starter.department_id and starter.kind in COLLEAGUE_KINDS:
        q |= Q(department_id=starter.department_id, kind__in=COLLEAGUE_KINDS)
    if "friends" in rules:
        q |= Q(pk__in=Friendship.objects.filter(friend_id=starter.pk).values("user_id"))
    if "audiences" in rules:
        q |= Q(school_class__counsellors=starter) | Q(school_class__head_teacher=starter)
        managed_groups = GroupMembership.objects.filter(user_id=starter.pk, is_manager=True).values(
            "group_id"
        )
        q |= Q(pk__in=GroupMembership.objects.filter(group_id__in=managed_groups).values("user_id"))
        if starter.school_class_id:
            q |= Q(counselled_classes=starter.school_class_id) | Q(headed_classes=starter.school_class_id)
        my_groups = GroupMembership.objects.filter(user_id=starter.pk).values("group_id")
        q |= Q(
            pk__in=GroupMembership.objects.filter(group_id__in=my_groups, is_manager=True).values("user_id")
        )
    return q & Q(is_active=True) & ~Q(pk=starter.pk)
