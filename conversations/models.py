"""Conversations (issue 14): direct (one per pair) and group chats, their messages, members with
their read pointer and unread counter, blocks, staff bans and abuse reports."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel


class ConversationKind(models.TextChoices):
    DIRECT = "direct", _("单聊")
    GROUP = "group", _("群聊")


class Conversation(TimestampedModel):
    """A chat. ``pair_key`` (``"<smaller id>:<larger id>"``) is unique, so a pair of users has at
    most one direct conversation whoever starts it, even two starts at the same moment. ``last_seq``
    numbers the messages: a send locks this row and takes the next number, so every member sees
    one order."""

    kind = models.CharField(_("类型"), max_length=8, choices=ConversationKind.choices)
    name = models.CharField(_("群名称"), max_length=100, blank=True)
    pair_key = models.CharField(
        _("单聊用户对"), max_length=41, null=True, blank=True, unique=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    school_class = models.ForeignKey(
        "accounts.SchoolClass",
        verbose_name=_("班级"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("班级群：班级及其辅导员"),
    )
    last_seq = models.PositiveBigIntegerField(_("最新消息序号"), default=0, editable=False)
    last_message = models.ForeignKey(
        "ConversationMessage",
        verbose_name=_("最新消息"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_message_at = models.DateTimeField(_("最近消息时间"), null=True, blank=True, editable=False)
    member_count = models.PositiveIntegerField(_("成员数"), default=0, editable=False)

    class Meta:
        verbose_name = _("会话")
        verbose_name_plural = _("会话")
        ordering = ("-last_message_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="direct") & Q(pair_key__isnull=False))
                | (Q(kind="group") & Q(pair_key__isnull=True)),
                name="conversation_pair_key_iff_direct",
            ),
        ]

    def __str__(self):
        if self.kind == ConversationKind.GROUP:
            return self.name or f"群聊 {self.pk}"
        return f"单聊 {self.pair_key}"

    @staticmethod
    def pair_key_for(user_a_id: int, user_b_id: int) -> str:
        low, high = sorted((int(user_a_id), int(user_b_id)))
        return f"{low}:{high}"


class MemberRole(models.TextChoices):
    OWNER = "owner", _("群主")
    ADMIN = "admin", _("管理员")
    MEMBER = "member", _("成员")


class ConversationMember(models.Model):
    """One user in one conversation: their read pointer (``last_read_seq``) and the unread badge
    (``unread_count``, raised with ``F()`` by every send in the send's transaction, set exactly on
    read). ``last_activity_at`` orders my conversation list from one index. Leaving deletes the row."""

    conversation = models.ForeignKey(
        Conversation, verbose_name=_("会话"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="conversation_memberships",
    )
    role = models.CharField(_("角色"), max_length=8, choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_at = models.DateTimeField(_("加入时间"), auto_now_add=True)
    last_read_seq = models.PositiveBigIntegerField(_("已读到"), default=0)
    unread_count = models.PositiveIntegerField(_("未读数"), default=0)
    last_activity_at = models.DateTimeField(_("最近活动"))
    # A push for this conversation went out and the member has not read since: the rest of the
    # burst is not pushed again (issue 14 item 7).
    push_pending = models.BooleanField(_("已推送未读"), default=False)

    class Meta:
        verbose_name = _("会话成员")
        verbose_name_plural = _("会话成员")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="conversation_member_unique"),
        ]
        indexes = [
            models.Index(fields=["user", "-last_activity_at", "-id"], name="conv_member_user_activity"),
            # The badge sums the counters of my unread conversations only: a range of this index.
            models.Index(fields=["user", "unread_count"], name="conv_member_user_unread"),
        ]

    def __str__(self):
        return f"{self.conversation} · {self.user}"

    @property
    def is_manager(self) -> bool:
        return self.role in (MemberRole.OWNER, MemberRole.ADMIN)


class MessageKind(models.TextChoices):
    """seed 004's ``message_type``."""

    TEXT = "text", _("文字")
    PICTURE = "picture", _("图片")
    FILE = "file", _("文件")


def message_file_path(instance, filename: str) -> str:
    # The stored name never comes from the uploader (the original name is kept in file_name).
    import uuid

    from django.utils import timezone

    ext = filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "bin"
    return f"conversations/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class ConversationMessage(models.Model):
    conversation = models.ForeignKey(
        Conversation, verbose_name=_("会话"), on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveBigIntegerField(_("序号"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发送者"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message_type = models.CharField(_("消息类型"), max_length=8, choices=MessageKind.choices)
    text = models.TextField(_("内容"), blank=True)
    file = models.FileField(_("文件"), upload_to=message_file_path, blank=True, max_length=200)
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(_("文件大小"), default=0)
    content_type = models.CharField(_("文件类型"), max_length=127, blank=True)
    client_id = models.CharField(_("客户端标识"), max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    recalled_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("会话消息")
        verbose_name_plural = _("会话消息")
        ordering = ("conversation", "-seq")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="conversation_message_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"], name="conversation_message_client_id"
            ),
        ]

    def __str__(self):
        return f"{self.conversation_id}#{self.seq}"

    @property
    def is_recalled(self) -> bool:
        return self.recalled_at is not None

    def preview(self) -> str:
        if self.is_recalled:
            return "[消息已撤回]"
        if self.message_type == MessageKind.PICTURE:
            return "[图片]"
        if self.message_type == MessageKind.FILE:
            return f"[文件] {self.file_name}"
        return self.text[:100]


class UserBlock(models.Model):
    """``blocker`` does not accept direct messages from ``blocked``."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("屏蔽者"), on_delete=models.CASCADE, related_name="+"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("被屏蔽者"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("屏蔽时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("屏蔽")
        verbose_name_plural = _("屏蔽")
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="user_block_unique"),
            models.CheckConstraint(condition=~Q(blocker=models.F("blocked")), name="user_block_not_self"),
        ]

    def __str__(self):
        return f"{self.blocker_id} ⊘ {self.blocked_id}"


class MessagingBan(TimestampedModel):
    """Staff stopped ``user`` from writing in any conversation (issue 14 item 9)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="messaging_ban",
    )
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("禁言")
        verbose_name_plural = _("禁言")

    def __str__(self):
        return f"禁言 {self.user}"


class ReportStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    DISMISSED = "dismissed", _("已驳回")
    ACTIONED = "actioned", _("已处理")


class MessageReport(TimestampedModel):
    """A user reported a message. Staff see the reported message and its neighbours only."""

    message = models.ForeignKey(
        ConversationMessage, verbose_name=_("被举报消息"), on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("举报人"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("举报理由"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("消息举报")
        verbose_name_plural = _("消息举报")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=["message", "reporter"], name="message_report_once"),
        ]

    def __str__(self):
        return f"举报 {self.message}"
