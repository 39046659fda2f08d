import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel

from .usernames import username_is_well_formed, username_normalize


class Department(TimestampedModel):
    """系所: an academic department or office of the college."""

    name = models.CharField(_("名称"), max_length=150, unique=True)

    class Meta:
        verbose_name = _("系所")
        verbose_name_plural = _("系所")
        ordering = ("name", "id")

    def __str__(self):
        return self.name


class SchoolClass(TimestampedModel):
    """班级: a class of students, with its counsellors (辅导员) and head teacher (班主任)."""

    name = models.CharField(_("班级名称"), max_length=100, unique=True)
    grade = models.PositiveSmallIntegerField(
        _("年级"), null=True, blank=True, help_text=_("入学年份，如 2024")
    )
    major = models.CharField(_("专业"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("系所"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="classes",
    )
    counsellors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("辅导员"), blank=True, related_name="counselled_classes"
    )
    head_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("班主任"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_classes",
    )

    class Meta:
        verbose_name = _("班级")
        verbose_name_plural = _("班级")
        ordering = ("-grade", "name")

    def __str__(self):
        return self.name


class UserKind(models.TextChoices):
    TEACHER = "teacher", _("教师")
    STUDENT = "student", _("学生")
    STAFF = "staff", _("职工")


class Visibility(models.TextChoices):
    """Who may see one field of a user's directory card (staff and the owner always may)."""

    EVERYONE = "everyone", _("所有登录用户")
    COLLEAGUES = "colleagues", _("同系所同事（同系所的教师和职工，不含学生）和我的好友")
    NOBODY = "nobody", _("仅自己")


# The directory's order: names under a letter before those under "?", then the letter, the
# pinyin of the full name and the number (``ALPHA_LAST`` is ``User.alpha_last`` as an expression).
ALPHA_LAST = models.Case(models.When(alpha="?", then=models.Value(1)), default=models.Value(0))
DIRECTORY_ORDER = ("alpha_last", "alpha", "name_pinyin", "username")


class PortalUserManager(UserManager):
    def get_by_natural_key(self, username):
        """The account a typed 工号/学号 means (``accounts/usernames.py``): normalised, compared
        without case; a spelling that is not a well-formed number matches nothing (MariaDB's
        collation would take ``Ť1001`` for ``T1001``)."""
        name = username_normalize(username)
        if not username_is_well_formed(name):
            raise self.model.DoesNotExist
        found = list(self.filter(username__iexact=name)[:2])
        if len(found) == 1:
            return found[0]
        exact = [user for user in found if user.username == name]
        if exact:  # two spellings stored before names were compared without case
            return exact[0]
        raise self.model.DoesNotExist

    def username_taken(self, username, *, exclude_pk=None) -> bool:
        """Whether another account already has this 工号/学号 in any case or width."""
        others = self.filter(username__iexact=username_normalize(username))
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
        return others.exists()


username_validator = RegexValidator(
    r"^[A-Za-z0-9_.@+-]+$", _("工号/学号只能包含字母、数字和 _ . @ + - 字符。"), code="invalid_username"
)


class User(AbstractUser):
    """A person of the college: a teacher, a student or a member of staff.

    ``username`` is the staff or student number (工号/学号). Contact details (the mini-program's
    "user meta") live on the user itself, so every active user is in the directory.
    """

    username = models.CharField(
        _("工号/学号"),
        max_length=32,
        unique=True,
        validators=[username_validator],
        error_messages={"unique": _("该工号/学号已存在。")},
    )
    first_name = models.CharField(_("名"), max_length=30, blank=True)
    last_name = models.CharField(_("姓"), max_length=150, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    kind = models.CharField(_("身份"), max_length=16, choices=UserKind.choices, default=UserKind.TEACHER)
    department = models.ForeignKey(
        Department,
        verbose_name=_("系所"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="department_users",
    )
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("班级"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="students",
    )
    wechat_openid = models.CharField(_("微信 openid"), max_length=64, unique=True, null=True, blank=True)
    # The WeChat unionid code2session gives with the openid (when the mini-program is in an open
    # platform): the same person's key in the official account, which links the two (issue 19).
    wechat_unionid = models.CharField(_("微信 unionid"), max_length=64, unique=True, null=True, blank=True)
    # An imported account is claimed once, by its owner, from the mini-program (see services).
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    # Signed up through open registration; stays inactive until staff approve it.
    awaiting_approval = models.BooleanField(_("待审核"), default=False)
    avatar = models.ImageField(_("头像"), upload_to="avatars/%Y/%m/", blank=True)

    # Directory card (the original's UserMeta).
    post = models.CharField(_("职位"), max_length=255, blank=True)
    phone = models.CharField(_("手机"), max_length=32, blank=True)
    tel = models.CharField(_("办公电话"), max_length=32, blank=True)
    qq = models.CharField(_("QQ"), max_length=32, blank=True)
    wechat = models.CharField(_("微信号"), max_length=255, blank=True)
    description = models.TextField(
        _("简介"), blank=True, max_length=500, validators=[MaxLengthValidator(500)]
    )

    # Who may see each card field (see accounts.privacy.ContactVisibility). Plain columns, so
    # a directory row carries its own rules and no join is needed to apply them.
    post_visibility = models.CharField(
        _("职位可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE
    )
    tel_visibility = models.CharField(
        _("办公电话可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE
    )
    email_visibility = models.CharField(
        _("电子邮箱可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE
    )
    phone_visibility = models.CharField(
        _("手机可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.COLLEAGUES
    )
    qq_visibility = models.CharField(
        _("QQ 可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.COLLEAGUES
    )
    wechat_visibility = models.CharField(
        _("微信号可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.COLLEAGUES
    )

    # Who may see whether I am online and when I was last seen (issue 14; the card fields' rule).
    presence_visibility = models.CharField(
        _("在线状态可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.COLLEAGUES
    )
    # Written at most every CONVERSATIONS_LAST_SEEN_PERSIST_SECONDS (the live state is in Redis).
    last_seen_at = models.DateTimeField(_("最近在线"), null=True, blank=True)
    # The address of the last login (seed 004's ``login_ip``), shown to the user only.
    last_login_ip = models.GenericIPAddressField(_("最近登录地址"), null=True, blank=True)

    # Search and sort keys derived from the name (see accounts.pinyin), kept by the services.
    name_pinyin = models.CharField(_("姓名拼音"), max_length=255, blank=True, db_index=True)
    name_initials = models.CharField(_("姓名首字母"), max_length=64, blank=True, db_index=True)
    alpha = models.CharField(_("首字母"), max_length=1, default="?", db_index=True)
    # 1 for the names filed under "?", which the directory lists last; computed by the database
    # so that the directory order is one index (``user_directory_order``).
    alpha_last = models.GeneratedField(
        expression=ALPHA_LAST,
        output_field=models.PositiveSmallIntegerField(),
        db_persist=False,
        verbose_name=_("首字母不是字母"),
    )

    objects = PortalUserManager()

    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ("username",)
        indexes = [
            models.Index(fields=["kind", "is_active"], name="user_kind_active"),
            models.Index(fields=DIRECTORY_ORDER, name="user_directory_order"),
        ]

    def __str__(self):
        return self.label(self.username, self.last_name, self.first_name)

    @classmethod
    def normalize_username(cls, username):
        return username_normalize(username)

    def clean_fields(self, exclude=None):
        # Normalised before the format is checked: a full-width ``Ｔ１００１`` is ``T1001``.
        if isinstance(self.username, str):
            self.username = username_normalize(self.username)
        super().clean_fields(exclude=exclude)

    def clean(self):
        super().clean()
        if self.username and User.objects.username_taken(self.username, exclude_pk=self.pk):
            # MariaDB's collation refuses it at the unique index (or finds the other account at
            # login); SQLite would store a second account that looks the same.
            raise ValidationError(
                {
                    "username": ValidationError(
                        _("该工号/学号已存在（不区分大小写和全角半角）。"), code="unique"
                    )
                }
            )

    def save(self, *args, **kwargs):
        # A new password (``set_password`` on an existing account, whoever changes it: the owner,
        # staff in the admin, a reset) signs every device out, except the one the owner changed it
        # from (``keep_token_id``, set by ``accounts.services.users.user_change_password``). Other
        # browser sessions end by themselves: their stored password hash no longer matches.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            AuthToken.objects.filter(user=self).exclude(pk=getattr(self, "keep_token_id", None)).delete()

    @staticmethod
    def label(username: str, last_name: str, first_name: str) -> str:
        """``<工号>-<姓名>``, how the original shows a user (also from rows, not instances)."""
        return f"{username}-{last_name}{first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.last_name}{self.first_name}"

    def get_short_name(self) -> str:
        """How the admin greets the user: the whole Chinese name (姓 + 名), never the given name
        alone (「欢迎，理员」 for 管理员), else the number."""
        return self.full_name or self.username


class CampusGroup(TimestampedModel):
    """A named group that messages and activities can target: 班干部, 学生会, a 协会 …"""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    description = models.TextField(
        _("说明"), blank=True, max_length=500, validators=[MaxLengthValidator(500)]
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("成员"),
        through="GroupMembership",
        related_name="campus_groups",
        blank=True,
    )

    class Meta:
        verbose_name = _("分组")
        verbose_name_plural = _("分组")
        ordering = ("name",)

    def __str__(self):
        return self.name


class GroupMembership(TimestampedModel):
    group = models.ForeignKey(
        CampusGroup, verbose_name=_("分组"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("成员"),
        on_delete=models.CASCADE,
        related_name="group_memberships",
    )
    title = models.CharField(_("职务"), max_length=50, blank=True, help_text=_("如 班长、主席"))
    is_manager = models.BooleanField(_("可管理本组"), default=False)

    class Meta:
        verbose_name = _("分组成员")
        verbose_name_plural = _("分组成员")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_membership_unique")]

    def __str__(self):
        return f"{self.group} · {self.user}"


class Friendship(TimestampedModel):
    """``user`` added ``friend`` to their contacts (好友/同事).

    The relation is directed, as the client uses it: ``is_friend`` on a card says whether the
    viewer added that person. For privacy it counts in the owner's direction only: adding
    someone never shows you more of their card; being added by them does.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="friendships"
    )
    friend = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("好友"), on_delete=models.CASCADE, related_name="friend_of"
    )

    class Meta:
        verbose_name = _("好友关系")
        verbose_name_plural = _("好友关系")
        constraints = [
            models.UniqueConstraint(fields=["user", "friend"], name="friendship_unique"),
            models.CheckConstraint(condition=~models.Q(user=models.F("friend")), name="friendship_not_self"),
        ]
        indexes = [models.Index(fields=["friend", "user"], name="friendship_friend_user")]

    def __str__(self):
        return f"{self.user} → {self.friend}"


class DirectoryTerm(models.Model):
    """One term of a user's searchable texts: the directory search's index (``accounts.search``).

    The primary key ``(term, user)`` is the index a search reads: the users holding a term."""

    pk = models.CompositePrimaryKey("term", "user")
    term = models.CharField(_("检索词"), max_length=2)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("通讯录检索词")
        verbose_name_plural = _("通讯录检索词")

    def __str__(self):
        return f"{self.term} → {self.user_id}"


class ClaimCode(TimestampedModel):
    """A one-time code staff hand to a person so they can claim their imported account.

    Only a keyed hash of the code is stored; issuing a new code replaces the old one.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="claim_code"
    )
    code_hash = models.CharField(_("认领码摘要"), max_length=64)
    expires_at = models.DateTimeField(_("有效期至"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("认领码")
        verbose_name_plural = _("认领码")

    def __str__(self):
        return f"{self.user} 的认领码"


def generate_token_key() -> str:
    return secrets.token_hex(20)


class AuthToken(models.Model):
    """One login on one device. Deleting the row logs that device out, and only that one."""

    key = models.CharField(_("令牌"), max_length=40, unique=True, default=generate_token_key, editable=False)
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="auth_tokens"
    )
    device = models.CharField(_("设备"), max_length=255, blank=True)
    # The client's own id for the device, when it sends one: a login from the same device id
    # refreshes its token instead of issuing another (without one, every login is a new token).
    device_id = models.CharField(_("设备标识"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("登录时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), db_index=True)

    class Meta:
        verbose_name = _("登录令牌")
        verbose_name_plural = _("登录令牌")
        ordering = ("-last_used_at",)
        indexes = [models.Index(fields=["user", "device_id"], name="token_user_device_id")]

    def __str__(self):
        return f"{self.user.username} @ {self.device or '未知设备'}"


class KnownDevice(models.Model):
    """A device its user logged in from with the right password: a browser (by the random key of
    its long-lived cookie) or an app (by the ``device_id`` it sends). When the account's login limit
    is reached (someone guessing its password), a known device still gets in with the right
    password; only the hash of the key is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="known_devices"
    )
    key_hash = models.CharField(_("设备密钥摘要"), max_length=64, editable=False)
    last_login_at = models.DateTimeField(_("最近登录"))

    class Meta:
        verbose_name = _("已知设备")
        verbose_name_plural = _("已知设备")
        constraints = [models.UniqueConstraint(fields=["user", "key_hash"], name="known_device_unique")]

    def __str__(self):
        return f"{self.user.username} 的已知设备"
