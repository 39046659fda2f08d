"""The WeChat official account (公众号): followers, what they send, what the portal answers.

* ``Follower``: one row per openid that followed the account (or signed in to a page through it),
  bound to at most one portal user; the 48-hour customer-service window is read from
  ``last_message_at``.
* ``InboundMessage``: every message and event WeChat delivered, unique by ``dedup_key`` so that
  WeChat's retries (same ``MsgId``, or sender + ``CreateTime`` for events) have their effect once,
  whichever worker they reach. The passive reply is kept to answer a retry the same way.
* The robot's ``KeywordRule``s; ``Topic`` / ``TopicPost`` (#话题#); the customer-service inbox
  (``InboxThread``); positions (``FollowerLocation``, visible only with its view permission);
  ``MenuItem``s of a ``Menu``; ``QrScene``s; ``OfficialTag``s for mass sends and ``MassSend``.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechathhu.core import outbox
from wechathhu.core.models import TimestampedModel

# --- Followers ---------------------------------------------------------------------------------


class Follower(TimestampedModel):
    """Someone who follows the account (``subscribed``), or did, or signed in to a page with it."""

    openid = models.CharField(_("openid"), max_length=64, unique=True)
    unionid = models.CharField(_("unionid"), max_length=64, null=True, blank=True, db_index=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("绑定用户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="official_follower",
    )
    bound_at = models.DateTimeField(_("绑定时间"), null=True, blank=True)
    subscribed = models.BooleanField(_("关注中"), default=False)
    subscribed_at = models.DateTimeField(_("关注时间"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("取消关注时间"), null=True, blank=True)
    scene = models.CharField(_("关注来源场景"), max_length=64, blank=True)
    # The class whose QR code the follower scanned: binding then expects one of its students.
    scene_class = models.ForeignKey(
        "accounts.SchoolClass",
        verbose_name=_("扫码班级"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The last message the follower sent (opens WeChat's 48-hour customer-service window) and
    # the last menu click / follow / scan (3 messages within a minute).
    last_message_at = models.DateTimeField(_("最近发消息"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("最近互动事件"), null=True, blank=True)
    # Mass sends received in ``mass_month`` (first day of the month): a follower gets at most
    # WECHAT_OFFICIAL_MASS_MONTHLY_LIMIT a month.
    mass_month = models.DateField(_("群发计数月份"), null=True, blank=True)
    mass_count = models.PositiveSmallIntegerField(_("本月已收群发"), default=0)

    class Meta:
        verbose_name = _("公众号粉丝")
        verbose_name_plural = _("公众号粉丝")
        ordering = ("-subscribed_at", "-id")
        indexes = [models.Index(fields=["subscribed", "user"], name="follower_subscribed_user")]

    def __str__(self):
        return self.openid


class FollowerLocation(models.Model):
    """A follower's last known position (LOCATION events and location messages), kept for
    WECHAT_OFFICIAL_LOCATION_RETENTION_DAYS. Staff see it only with ``view_followerlocation``."""

    follower = models.OneToOneField(
        Follower, verbose_name=_("粉丝"), primary_key=True, on_delete=models.CASCADE, related_name="location"
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6)
    precision = models.FloatField(_("精度（米）"), null=True, blank=True)
    label = models.CharField(_("位置说明"), max_length=255, blank=True)
    reported_at = models.DateTimeField(_("上报时间"), db_index=True)

    class Meta:
        verbose_name = _("粉丝地理位置")
        verbose_name_plural = _("粉丝地理位置")
        ordering = ("-reported_at",)

    def __str__(self):
        return f"{self.follower} @ {self.latitude},{self.longitude}"


# --- What WeChat delivers -------------------------------------------------------------------------


class Handling(models.TextChoices):
    NONE = "none", _("无需处理")
    FOLLOW = "follow", _("关注/扫码")
    COMMAND = "command", _("内置指令")
    RULE = "rule", _("关键词规则")
    TOPIC = "topic", _("话题")
    LOCATION = "location", _("位置")
    INBOX = "inbox", _("转人工")
    REPORT = "report", _("群发/模板回执")


class InboundMessage(models.Model):
    """One message or event WeChat delivered, once (``dedup_key`` is unique)."""

    dedup_key = models.CharField(_("去重键"), max_length=160, unique=True)
    follower = models.ForeignKey(
        Follower,
        verbose_name=_("粉丝"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    msg_id = models.BigIntegerField(_("微信消息 ID"), null=True, blank=True, db_index=True)
    kind = models.CharField(_("类型"), max_length=32)
    event = models.CharField(_("事件"), max_length=64, blank=True)
    event_key = models.CharField(_("事件参数"), max_length=1024, blank=True)
    content = models.TextField(_("内容"), blank=True)
    media_id = models.CharField(_("媒体 ID"), max_length=256, blank=True)
    url = models.CharField(_("链接"), max_length=1024, blank=True)
    sent_at = models.DateTimeField(_("发送时间"))
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True, db_index=True)
    handling = models.CharField(_("处理方式"), max_length=16, choices=Handling.choices, default=Handling.NONE)
    reply = models.TextField(_("被动回复"), blank=True, help_text=_("重试时原样回复"))
    # A command whose slow part runs in Celery (报修) marks it done here, in the same transaction.
    followup = models.CharField(_("后续处理"), max_length=16, blank=True)
    followup_done_at = models.DateTimeField(_("后续处理完成"), null=True, blank=True)

    class Meta:
        verbose_name = _("收到的消息")
        verbose_name_plural = _("收到的消息")
        ordering = ("-received_at", "-id")
        indexes = [models.Index(fields=["follower", "received_at"], name="inbound_follower_received")]

    def __str__(self):
        return f"{self.kind}{'/' + self.event if self.event else ''} {self.dedup_key}"

    @property
    def is_event(self) -> bool:
        return self.kind == "event"


# --- The robot -------------------------------------------------------------------------------------


class MatchKind(models.TextChoices):
    EXACT = "exact", _("完全匹配")
    CONTAINS = "contains", _("包含")
    REGEX = "regex", _("正则表达式")


class ReplyKind(models.TextChoices):
    TEXT = "text", _("文本")
    NEWS = "news", _("图文")
    IMAGE = "image", _("图片")
    LINK = "link", _("链接")


REGEX_MAX_LENGTH = 200


class KeywordRule(TimestampedModel):
    """A staff-managed auto-reply: the first active rule (by priority) whose pattern matches."""

    name = models.CharField(_("规则名称"), max_length=100)
    match = models.CharField(_("匹配方式"), max_length=16, choices=MatchKind.choices, default=MatchKind.EXACT)
    pattern = models.CharField(_("关键词"), max_length=REGEX_MAX_LENGTH)
    priority = models.IntegerField(
        _("优先级"),
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
        help_text=_("数字越小越先匹配"),
    )
    active_from = models.TimeField(
        _("生效时段开始"), null=True, blank=True, help_text=_("北京时间；留空为全天")
    )
    active_until = models.TimeField(
        _("生效时段结束"), null=True, blank=True, help_text=_("可跨午夜，如 22:00–07:00")
    )
    reply_kind = models.CharField(
        _("回复类型"), max_length=16, choices=ReplyKind.choices, default=ReplyKind.TEXT
    )
    text = models.TextField(_("回复文本"), max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])
    title = models.CharField(_("标题"), max_length=64, blank=True)
    description = models.CharField(_("摘要"), max_length=255, blank=True)
    url = models.URLField(_("链接"), max_length=500, blank=True)
    pic_url = models.URLField(_("封面图片链接"), max_length=500, blank=True)
    media_id = models.CharField(_("图片素材 media_id"), max_length=128, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("关键词回复规则")
        verbose_name_plural = _("关键词回复规则")
        ordering = ("priority", "id")
        indexes = [models.Index(fields=["is_active", "priority"], name="rule_active_priority")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.match == MatchKind.REGEX:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                errors["pattern"] = _("正则表达式有误：%(error)s") % {"error": exc}
        if not (self.pattern or "").strip():
            errors["pattern"] = _("请填写关键词。")
        if (self.active_from is None) != (self.active_until is None):
            errors["active_until"] = _("生效时段的开始和结束要么都填，要么都不填。")
        needs = {
            ReplyKind.TEXT: ("text",),
            ReplyKind.NEWS: ("title", "url"),
            ReplyKind.IMAGE: ("media_id",),
            ReplyKind.LINK: ("title", "url"),
        }.get(self.reply_kind, ())
        for name in needs:
            if not (getattr(self, name) or "").strip():
                errors[name] = _("“%(kind)s”回复需要填写此项。") % {"kind": ReplyKind(self.reply_kind).label}
        if errors:
            raise ValidationError(errors)


# --- #Topics# --------------------------------------------------------------------------------------

TOPIC_NAME_MAX = 30
POST_MAX = 600


class Topic(TimestampedModel):
    """A #话题#: created by its first post; ``post_count`` counts visible posts."""

    name = models.CharField(_("话题"), max_length=TOPIC_NAME_MAX, unique=True)
    is_hidden = models.BooleanField(_("已隐藏"), default=False)
    post_count = models.PositiveIntegerField(_("帖子数"), default=0)
    last_post_at = models.DateTimeField(_("最近发帖"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("话题")
        verbose_name_plural = _("话题")
        ordering = ("-last_post_at", "-id")

    def __str__(self):
        return f"#{self.name}#"


class TopicPost(TimestampedModel):
    topic = models.ForeignKey(Topic, verbose_name=_("话题"), on_delete=models.CASCADE, related_name="posts")
    follower = models.ForeignKey(
        Follower, verbose_name=_("粉丝"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    content = models.TextField(_("内容"), max_length=POST_MAX, validators=[MaxLengthValidator(POST_MAX)])
    is_official = models.BooleanField(_("官方回复"), default=False)
    is_hidden = models.BooleanField(_("已隐藏"), default=False)
    is_pinned = models.BooleanField(_("置顶"), default=False)

    class Meta:
        verbose_name = _("话题帖子")
        verbose_name_plural = _("话题帖子")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["topic", "is_hidden", "is_pinned", "created_at"], name="post_topic_listing"),
            models.Index(fields=["is_hidden", "created_at"], name="post_hidden_created"),
        ]

    def __str__(self):
        return f"{self.topic} {self.content[:20]}"


# --- The customer-service inbox --------------------------------------------------------------------


class ThreadStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    CLOSED = "closed", _("已关闭")


class InboxThread(TimestampedModel):
    """A follower's conversation with staff. Opened when the robot cannot answer; ``unread``
    counts the follower's messages since staff last opened it."""

    follower = models.OneToOneField(
        Follower, verbose_name=_("粉丝"), on_delete=models.CASCADE, related_name="thread"
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=ThreadStatus.choices, default=ThreadStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="official_threads",
        limit_choices_to={"is_staff": True},
    )
    unread = models.PositiveIntegerField(_("未读"), default=0)
    last_incoming_at = models.DateTimeField(_("最近来信"), null=True, blank=True)
    last_reply_at = models.DateTimeField(_("最近回复"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("客服会话")
        verbose_name_plural = _("客服会话")
        ordering = ("-last_incoming_at", "-id")
        indexes = [models.Index(fields=["status", "last_incoming_at"], name="thread_status_incoming")]

    def __str__(self):
        return f"与 {self.follower} 的会话"


class ServiceKind(models.TextChoices):
    TEXT = "text", _("文本")
    IMAGE = "image", _("图片")
    VOICE = "voice", _("语音")
    VIDEO = "video", _("视频")
    MUSIC = "music", _("音乐")
    NEWS = "news", _("图文")
    TEMPLATE = "template", _("模板消息")


class ServiceMessage(outbox.OutboxDelivery):
    """One customer-service message (or, ``kind="template"``, a template message) to a follower:
    a staff reply from the inbox or the robot's follow-up, sent by the shared outbox.

    WeChat refuses customer-service messages more than 48 hours after the follower's last
    message (45015): that is a permanent failure with its reason, never retried.
    """

    outbox_channel = "wechat_oa"
    outbox_select_related = ("follower",)

    follower = models.ForeignKey(
        Follower, verbose_name=_("粉丝"), on_delete=models.CASCADE, related_name="service_messages"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=ServiceKind.choices, default=ServiceKind.TEXT)
    payload = models.JSONField(_("内容"), default=dict)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("为空表示机器人"),
    )
    in_reply_to = models.ForeignKey(
        InboundMessage,
        verbose_name=_("回复的消息"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    msgid = models.BigIntegerField(_("模板消息 msgid"), null=True, blank=True, db_index=True)

    class Meta(outbox.OutboxDelivery.Meta):
        verbose_name = _("客服消息")
        verbose_name_plural = _("客服消息")
        ordering = ("-created_at", "-id")
        indexes = [
            *outbox.OutboxDelivery.Meta.indexes,
            models.Index(fields=["follower", "created_at"], name="servicemessage_follower"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.follower}"

    @property
    def summary(self) -> str:
        payload = self.payload or {}
        if self.kind == ServiceKind.TEMPLATE:
            return "；".join(str(v) for v in (payload.get("data") or {}).values())
        return (
            payload.get("content")
            or payload.get("title")
            or payload.get("media_id")
            or payload.get("url")
            or ""
        )

    def outbox_send(self) -> dict | None:
        from wechathhu.integrations import official

        if not self.follower.subscribed:
            raise outbox.Permanent("该用户已取消关注公众号。", code=43004, reason="unfollowed")
        try:
            if self.kind == ServiceKind.TEMPLATE:
                msgid = official.send_template_message(
                    openid=self.follower.openid,
                    template_id=self.payload["template_id"],
                    data=self.payload["data"],
                    url=self.payload.get("url") or None,
                )
                return {"msgid": msgid}
            official.send_customer_service(openid=self.follower.openid, kind=self.kind, payload=self.payload)
        except official.WeChatError as exc:
            if exc.errcode == 45015:
                raise outbox.Permanent(
                    "粉丝超过48小时未与公众号互动，客服消息无法送达（45015）。",
                    code=45015,
                    reason="window_closed",
                ) from exc
            if exc.errcode == 43004:
                raise outbox.Permanent(
                    "该用户未关注公众号（43004）。", code=43004, reason="unfollowed"
                ) from exc
            raise
        return None


# --- Menu --------------------------------------------------------------------------------------------


class Menu(TimestampedModel):
    """A version of the account's custom menu; publishing sends it to WeChat (clients re-read
    the menu within about 5 minutes)."""

    name = models.CharField(_("名称"), max_length=100)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("自定义菜单")
        verbose_name_plural = _("自定义菜单")
        ordering = ("-published_at", "-id")

    def __str__(self):
        return self.name


class ButtonKind(models.TextChoices):
    SUBMENU = "", _("（子菜单）")
    CLICK = "click", _("点击（机器人回答）")
    VIEW = "view", _("打开网页")
    MINIPROGRAM = "miniprogram", _("打开小程序")
    SCANCODE_PUSH = "scancode_push", _("扫码")
    LOCATION_SELECT = "location_select", _("发送位置")


class MenuItem(models.Model):
    """One button: ``column`` 1–3 is the top-level button; ``position`` 0 is that button itself,
    1–5 its sub-buttons. A top-level button with sub-buttons has no action of its own."""

    menu = models.ForeignKey(Menu, verbose_name=_("菜单"), on_delete=models.CASCADE, related_name="items")
    column = models.PositiveSmallIntegerField(
        _("列"), validators=[MinValueValidator(1), MaxValueValidator(3)], help_text=_("1–3，从左到右")
    )
    position = models.PositiveSmallIntegerField(
        _("位置"),
        validators=[MaxValueValidator(5)],
        help_text=_("0 为一级菜单本身，1–5 为其子菜单（从上到下）"),
    )
    name = models.CharField(_("名称"), max_length=30)
    kind = models.CharField(_("动作"), max_length=20, choices=ButtonKind.choices, blank=True)
    key = models.CharField(
        _("点击键值"), max_length=128, blank=True, help_text=_("点击时机器人按此文字回答，如 今日")
    )
    url = models.URLField(_("网址"), max_length=1000, blank=True)
    appid = models.CharField(_("小程序 appid"), max_length=64, blank=True)
    pagepath = models.CharField(_("小程序页面"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("菜单按钮")
        verbose_name_plural = _("菜单按钮")
        ordering = ("column", "position")
        constraints = [
            models.UniqueConstraint(fields=["menu", "column", "position"], name="menuitem_unique_slot"),
        ]

    def __str__(self):
        return self.name


# --- QR scenes ---------------------------------------------------------------------------------------


class QrScene(TimestampedModel):
    """A permanent parametric QR code (``qrscene_<scene>``). For a class: scanning it offers that
    class's students to bind their account."""

    scene = models.CharField(_("场景值"), max_length=64, unique=True)
    school_class = models.OneToOneField(
        "accounts.SchoolClass",
        verbose_name=_("班级"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="official_qr",
    )
    ticket = models.CharField(_("ticket"), max_length=255, blank=True)
    url = models.CharField(_("二维码内容"), max_length=255, blank=True)
    scans = models.PositiveIntegerField(_("扫码次数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("场景二维码")
        verbose_name_plural = _("场景二维码")
        ordering = ("-created_at", "-id")

    def __str__(self):
        return str(self.school_class) if self.school_class_id else self.scene


# --- Tags and mass sends -------------------------------------------------------------------------------

TAG_LIMIT = 100  # an account has at most 100 tags (45056)


class TagSource(models.TextChoices):
    DEPARTMENT = "department", _("系所")
    GRADE = "grade", _("年级")
    GROUP = "group", _("分组")


class OfficialTag(TimestampedModel):
    """A WeChat user tag mirroring a department, a grade or a group (classes travel by openid
    list). ``wechat_id`` is set once the tag exists at WeChat."""

    name = models.CharField(_("标签名"), max_length=30, unique=True)
    source = models.CharField(_("来源"), max_length=16, choices=TagSource.choices)
    # The source it mirrors; emptied when that department or group is deleted, and the next
    # synchronisation then deletes the tag at WeChat too (it would count against the 100).
    department = models.OneToOneField(
        "accounts.Department",
        verbose_name=_("系所"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    grade = models.PositiveSmallIntegerField(_("年级"), null=True, blank=True, unique=True)
    group = models.OneToOneField(
        "accounts.CampusGroup",
        verbose_name=_("分组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    wechat_id = models.IntegerField(_("微信标签 ID"), null=True, blank=True, unique=True)
    members = models.ManyToManyField(
        Follower, verbose_name=_("已打标签的粉丝"), blank=True, related_name="tags"
    )
    synced_at = models.DateTimeField(_("同步时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公众号标签")
        verbose_name_plural = _("公众号标签")
        ordering = ("source", "name")

    def __str__(self):
        return self.name


class MassAudience(models.TextChoices):
    ALL = "all", _("全部粉丝")
    TAG = "tag", _("按标签（系所/年级/分组）")
    CLASS = "class", _("按班级（OpenID 列表）")


class MassKind(models.TextChoices):
    TEXT = "text", _("文本")
    MPNEWS = "mpnews", _("图文素材")
    IMAGE = "image", _("图片素材")


class MassStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    QUEUED = "queued", _("发送中")
    SUBMITTED = "submitted", _("已提交微信")
    FINISHED = "finished", _("已完成")
    FAILED = "failed", _("失败")


class MassSend(TimestampedModel):
    """A mass send (群发): rare broadcasts, chosen explicitly. WeChat's MASSSENDJOBFINISH event
    fills in its totals (approximate: pushed near the end of the job)."""

    title = models.CharField(_("标题"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=MassKind.choices, default=MassKind.TEXT)
    content = models.TextField(
        _("文本内容"), max_length=2000, blank=True, validators=[MaxLengthValidator(2000)]
    )
    media_id = models.CharField(_("素材 media_id"), max_length=128, blank=True)
    audience = models.CharField(
        _("范围"), max_length=8, choices=MassAudience.choices, default=MassAudience.ALL
    )
    tag = models.ForeignKey(
        OfficialTag, verbose_name=_("标签"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school_class = models.ForeignKey(
        "accounts.SchoolClass",
        verbose_name=_("班级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    message = models.ForeignKey(
        "messaging.Message",
        verbose_name=_("对应消息"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="official_mass_sends",
    )
    status = models.CharField(_("状态"), max_length=16, choices=MassStatus.choices, default=MassStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    openids = models.JSONField(_("OpenID 列表"), default=list, blank=True, editable=False)
    recipient_estimate = models.PositiveIntegerField(_("预计人数"), default=0)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    msg_id = models.BigIntegerField(_("微信群发 ID"), null=True, blank=True, unique=True)
    msg_data_id = models.BigIntegerField(_("图文数据 ID"), null=True, blank=True)
    error = models.CharField(_("失败原因"), max_length=500, blank=True)
    # MASSSENDJOBFINISH
    finish_status = models.CharField(_("微信回执"), max_length=64, blank=True)
    total_count = models.PositiveIntegerField(_("粉丝总数"), null=True, blank=True)
    filter_count = models.PositiveIntegerField(_("过滤后人数"), null=True, blank=True)
    sent_count = models.PositiveIntegerField(_("发送成功"), null=True, blank=True)
    error_count = models.PositiveIntegerField(_("发送失败"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("群发")
        verbose_name_plural = _("群发")
        ordering = ("-created_at", "-id")

    def __str__(self):
        return self.title

    def clean(self):
        errors = {}
        if self.kind == MassKind.TEXT and not (self.content or "").strip():
            errors["content"] = _("文本群发需要填写内容。")
        if self.kind != MassKind.TEXT and not (self.media_id or "").strip():
            errors["media_id"] = _("素材群发需要填写 media_id。")
        if self.audience == MassAudience.TAG and self.tag_id is None:
            errors["tag"] = _("按标签群发需要选择标签。")
        if self.audience == MassAudience.CLASS and self.school_class_id is None:
            errors["school_class"] = _("按班级群发需要选择班级。")
        if errors:
            raise ValidationError(errors)


class MassSendDelivery(outbox.OutboxDelivery):
    """The one WeChat call of a mass send, made by the shared outbox (rate-limited on its own
    channel: WeChat allows 60 mass-send requests a minute)."""

    outbox_channel = "wechat_oa_mass"
    outbox_select_related = ("mass_send__tag",)

    mass_send = models.OneToOneField(
        MassSend, verbose_name=_("群发"), on_delete=models.CASCADE, related_name="delivery"
    )

    class Meta(outbox.OutboxDelivery.Meta):
        verbose_name = _("群发投递")
        verbose_name_plural = _("群发投递")

    def __str__(self):
        return str(self.mass_send)

    def outbox_send(self) -> dict | None:
        from .services.mass import mass_send_submit

        mass_send_submit(mass=self.mass_send)
        return None
