from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.errors import AccountsErrorCode
from accounts.models import AuthToken, CampusGroup, Department, GroupMembership, SchoolClass, User, Visibility
from wechathhu.api import serializers as api_serializers
from wechathhu.core.errors import ApplicationError


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class AvatarUrlField(serializers.Field):
    """The avatar's URL (``/avatars/<user id>/<key>.jpg``: unguessable, so the mini-program's
    ``<image>`` can load it without a token), or null."""

    def __init__(self, **kwargs):
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, user):
        return avatar_url(user.pk, user.avatar and user.avatar.name, request=self.context.get("request"))


def avatar_url(user_id: int, name: str | None, *, request=None) -> str | None:
    """The URL of the avatar stored as ``name`` (absolute when there is a request), or None."""
    if not name:
        return None
    key = name.rsplit("/", 1)[-1].split(".", 1)[0]
    url = reverse("accounts:avatar", kwargs={"user_id": user_id, "key": key})
    return request.build_absolute_uri(url) if request else url


class DepartmentSerializer(api_serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ("id", "name")


class UserSerializer(api_serializers.ModelSerializer):
    """The signed-in user, in the shape the mini-program reads (C2, C9)."""

    department = DepartmentSerializer(read_only=True, allow_null=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True, help_text="电子邮箱，未填写时为空字符串")
    avatar = AvatarUrlField()

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "kind",
            "is_staff",
            "is_active",
            "date_joined",
            "groups",
            "department",
            "avatar",
        )
        read_only_fields = fields


class UserUpdateSerializer(serializers.Serializer):
    """``PUT /current-user/``: a full update of the profile, with an optional password change."""

    first_name = serializers.CharField(max_length=30)
    last_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_null=True, allow_blank=True)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    password = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False)
    old_password = serializers.CharField(
        required=False, allow_blank=True, write_only=True, trim_whitespace=False
    )

    def validate(self, attrs):
        if attrs.get("password") and not attrs.get("old_password"):
            raise serializers.ValidationError({"old_password": ["修改密码需要提供当前密码。"]})
        return attrs


class UserCardSerializer(serializers.ModelSerializer):
    """The directory card of a user (the original's UserMeta), as C6 reads it (output)."""

    user = serializers.IntegerField(source="pk", read_only=True)
    user_meta = serializers.SerializerMethodField()
    fullname = serializers.CharField(source="full_name", read_only=True)
    is_friend = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "user",
            "user_meta",
            "post",
            "qq",
            "wechat",
            "tel",
            "phone",
            "description",
            "fullname",
            "alpha",
            "is_friend",
            "post_visibility",
            "tel_visibility",
            "email_visibility",
            "phone_visibility",
            "qq_visibility",
            "wechat_visibility",
            "presence_visibility",
        )
        read_only_fields = fields

    def get_user_meta(self, obj) -> dict:
        return UserSerializer(obj, context=self.context).data

    def get_is_friend(self, obj) -> bool:
        return bool(getattr(obj, "is_friend", False))


class UserCardUpdateSerializer(serializers.Serializer):
    """A change of my card (C7 echoes the whole card it read: the read-only keys are ignored)."""

    post = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    qq = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    wechat = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    tel = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    post_visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    tel_visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    email_visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    phone_visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    qq_visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    wechat_visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    presence_visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, help_text="谁可以看到我是否在线、最近在线时间"
    )


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    device = serializers.CharField(required=False, allow_blank=True, max_length=255)
    device_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="客户端自己的设备标识（可选）：同一设备再次登录时沿用该设备的令牌，否则每次登录都签发新令牌",
    )


class WeChatCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=256)
    device = serializers.CharField(required=False, allow_blank=True, max_length=255)
    device_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="客户端自己的设备标识（可选）：同一设备再次登录时沿用该设备的令牌，否则每次登录都签发新令牌",
    )

    @classmethod
    def validated(cls, data) -> dict:
        """``data`` checked; a missing or non-text ``code`` is a 400 ``{"detail": …}`` as the
        original answered, before any field error."""
        code = data.get("code") if hasattr(data, "get") else None
        if not code or not isinstance(code, str):
            raise ApplicationError("缺少微信登录凭证 code。", code=AccountsErrorCode.WECHAT_CODE_MISSING)
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class AuthTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ("id", "device", "created_at", "last_used_at", "current")

    def get_current(self, obj) -> bool:
        request = self.context.get("request")
        return bool(request and request.auth is not None and getattr(request.auth, "pk", None) == obj.pk)


class PublicUserSerializer(api_serializers.ModelSerializer):
    """seed 001's ``UserResponse``."""

    real_name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "real_name")


class MeSerializer(PublicUserSerializer):
    """seed 001's ``UserResponse`` plus (additive) my avatar and my last login's time and address
    (seed 004's ``login_ip``): shown to me only."""

    avatar = AvatarUrlField()

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "real_name",
            "avatar",
            "last_login",
            "last_login_ip",
            "presence_visibility",
        )
        read_only_fields = fields


# --- Directory ------------------------------------------------------------------------------------


class VisibleCharField(serializers.CharField):
    """A card field shown only when ``context["visibility"]`` lets the viewer see it, else null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return self.context["visibility"].value(instance, self.field_name)


class ContactUserSerializer(serializers.ModelSerializer):
    """``user_meta`` of a directory entry: who the person is (no staff flag, groups or dates)."""

    department = DepartmentSerializer(read_only=True, allow_null=True)
    full_name = serializers.CharField(read_only=True)
    email = VisibleCharField()
    avatar = AvatarUrlField()

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "first_name",
            "last_name",
            "full_name",
            "kind",
            "email",
            "department",
            "avatar",
        )
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    """One directory entry as the contact page reads it (C26); hidden fields are null.

    Needs ``context["visibility"]`` (an ``accounts.privacy.ContactVisibility``) and rows with
    their department loaded.
    """

    user = serializers.IntegerField(source="pk", read_only=True)
    user_meta = ContactUserSerializer(source="*", read_only=True)
    post = VisibleCharField()
    qq = VisibleCharField()
    wechat = VisibleCharField()
    tel = VisibleCharField()
    phone = VisibleCharField()
    fullname = serializers.CharField(source="full_name", read_only=True)
    is_friend = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "user",
            "user_meta",
            "post",
            "qq",
            "wechat",
            "tel",
            "phone",
            "description",
            "fullname",
            "alpha",
            "is_friend",
        )
        read_only_fields = fields

    def get_is_friend(self, obj) -> bool:
        return self.context["visibility"].is_friend(obj)

    def to_representation(self, row):
        """One entry from a ``accounts.selectors.contact_rows`` row, written out directly: a page
        of the directory is up to 1 000 entries, and going field by field through the
        serializers above (which document the shape) cost several times the query."""
        visibility = self.context["visibility"]
        shown = visibility.card(row)
        full_name = f"{row.last_name}{row.first_name}"
        return {
            "user": row.pk,
            "user_meta": {
                "id": row.pk,
                "username": row.username,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "full_name": full_name,
                "kind": row.kind,
                "email": shown["email"],
                "department": (
                    {"id": row.department_id, "name": row.department_name} if row.department_id else None
                ),
                "avatar": avatar_url(row.pk, row.avatar, request=self.context.get("request")),
            },
            "post": shown["post"],
            "qq": shown["qq"],
            "wechat": shown["wechat"],
            "tel": shown["tel"],
            "phone": shown["phone"],
            "description": row.description,
            "fullname": full_name,
            "alpha": row.alpha,
            "is_friend": visibility.is_friend(row),
        }


class UserSearchEntrySerializer(ContactSerializer):
    """A ``/users/search/`` result: a directory entry (every key of ``/contacts/``) plus seed 004's
    flat ``avatar`` and ``nickname``, where a client of seed 004's ``/user/search`` reads them."""

    avatar = AvatarUrlField(help_text="头像地址，没有头像时为 null（同 user_meta.avatar；seed 004）")
    nickname = serializers.CharField(
        read_only=True, help_text="姓名，没有姓名时为工号/学号（seed 004 的 nickname）"
    )

    class Meta(ContactSerializer.Meta):
        fields = (*ContactSerializer.Meta.fields, "avatar", "nickname")
        read_only_fields = fields

    def to_representation(self, row):
        entry = super().to_representation(row)
        entry["avatar"] = entry["user_meta"]["avatar"]
        entry["nickname"] = entry["fullname"] or row.username
        return entry


class ContactQuerySerializer(serializers.Serializer):
    my = serializers.ChoiceField(
        choices=[("yes", "yes"), ("no", "no")],
        required=False,
        default="no",
        help_text="yes：只列出同系所同事（同系所的教师和职工，不含学生）和我的好友（含自己）；no 或不填：所有人",
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="姓名、拼音（全拼或首字母）、职位、系所、电话、手机、QQ；多个词以空格或逗号分隔，须全部匹配",
    )
    page = serializers.IntegerField(
        required=False, min_value=1, max_value=100000, help_text="页码，每页 50 人"
    )


# --- Groups and classes ---------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    """Who someone is, without any contact detail (those go through the directory's privacy)."""

    fullname = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "fullname", "kind")
        read_only_fields = fields


class GroupSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)
    my_title = serializers.CharField(
        read_only=True, allow_null=True, help_text="我在本组的职务；不是成员时为 null"
    )
    i_manage = serializers.BooleanField(read_only=True, help_text="我是否是本组的管理者")

    class Meta:
        model = CampusGroup
        fields = ("id", "name", "description", "member_count", "my_title", "i_manage")
        read_only_fields = fields


class GroupMemberSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)
    department = serializers.CharField(
        source="user.department.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = GroupMembership
        fields = ("user", "department", "title", "is_manager", "created_at")
        read_only_fields = fields


class GroupMemberCreateSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    title = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    is_manager = serializers.BooleanField(required=False, default=False)


class GroupMemberUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=50, required=False, allow_blank=True)
    is_manager = serializers.BooleanField(required=False)


class SchoolClassSerializer(serializers.ModelSerializer):
    department = DepartmentSerializer(read_only=True, allow_null=True)
    head_teacher = PersonSerializer(read_only=True, allow_null=True)
    counsellors = PersonSerializer(many=True, read_only=True)
    student_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = SchoolClass
        fields = (
            "id",
            "name",
            "grade",
            "major",
            "department",
            "head_teacher",
            "counsellors",
            "student_count",
        )
        read_only_fields = fields


class SearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)


# --- Claiming, registration, avatar ---------------------------------------------------------------


class ClaimSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=32, help_text="工号/学号")
    name = serializers.CharField(max_length=180, help_text="姓名（姓+名）")
    password = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=128, help_text="初始密码"
    )
    claim_code = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="管理员发放的一次性认领码（代替初始密码）"
    )
    code = serializers.CharField(max_length=256, help_text="wx.login() 取得的微信登录凭证")
    new_password = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=128,
        help_text="同时设置的新密码（可选）",
    )
    device = serializers.CharField(required=False, allow_blank=True, max_length=255)


REGISTRATION_KINDS = [("teacher", "教师"), ("student", "学生")]


class RegisterSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[A-Za-z0-9_.@+-]+$",
        max_length=32,
        error_messages={"invalid": "工号/学号只能包含字母、数字和 _ . @ + - 字符。"},
        help_text="工号/学号",
    )
    last_name = serializers.CharField(max_length=150)
    first_name = serializers.CharField(max_length=30)
    password = serializers.CharField(trim_whitespace=False, max_length=128, write_only=True)
    kind = serializers.ChoiceField(choices=REGISTRATION_KINDS)
    email = serializers.EmailField(required=False, allow_blank=True)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    school_class = serializers.PrimaryKeyRelatedField(
        queryset=SchoolClass.objects.all(), required=False, allow_null=True
    )


class RegistrationSerializer(serializers.ModelSerializer):
    fullname = serializers.CharField(source="full_name", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "fullname", "kind", "status")
        read_only_fields = fields

    def get_status(self, obj) -> str:
        return "awaiting_approval" if obj.awaiting_approval else "active"


class AvatarUploadSerializer(serializers.Serializer):
    avatar = serializers.FileField(help_text="JPEG、PNG、GIF 或 WebP 图片")


class UserSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="工号/学号、姓名或拼音（全拼或首字母）")
