from rest_framework import serializers

from accounts.models import AuthToken, Department, User, Visibility


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ("id", "name")


class UserSerializer(serializers.ModelSerializer):
    """The signed-in user, in the shape the mini-program reads (C2, C9)."""

    department = DepartmentSerializer(read_only=True, allow_null=True)
    full_name = serializers.CharField(read_only=True)
    avatar = serializers.ImageField(read_only=True, allow_null=True, use_url=True)

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
    """The directory card of a user (the original's UserMeta), as C6/C7 read and echo it."""

    user = serializers.IntegerField(source="pk", read_only=True)
    user_meta = serializers.SerializerMethodField()
    fullname = serializers.CharField(source="full_name", read_only=True)
    alpha = serializers.CharField(read_only=True)
    is_friend = serializers.SerializerMethodField()
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
        )

    def get_user_meta(self, obj) -> dict:
        return UserSerializer(obj, context=self.context).data

    def get_is_friend(self, obj) -> bool:
        return bool(getattr(obj, "is_friend", False))


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    device = serializers.CharField(required=False, allow_blank=True, max_length=255)


class WeChatCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=256)
    device = serializers.CharField(required=False, allow_blank=True, max_length=255)


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


class PublicUserSerializer(serializers.ModelSerializer):
    """seed 001's ``UserResponse``."""

    real_name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "real_name")


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
    avatar = serializers.ImageField(read_only=True, allow_null=True, use_url=True)

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


class ContactQuerySerializer(serializers.Serializer):
    my = serializers.ChoiceField(
        choices=[("yes", "yes"), ("no", "no")],
        required=False,
        default="no",
        help_text="yes：只列出同系所同事和我的好友（含自己）；no 或不填：所有人",
    )
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="姓名、拼音（全拼或首字母）、职位、系所、电话、手机、QQ；多个词以空格或逗号分隔，须全部匹配",
    )
