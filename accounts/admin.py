from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from wechathhu.core.downloads import xlsx_response
from wechathhu.core.errors import ApplicationError

from . import exports
from .models import AuthToken, CampusGroup, Department, Friendship, GroupMembership, SchoolClass, User
from .resources import SchoolClassResource, UserResource
from .services.avatars import avatar_image_open, user_set_avatar
from .services.claims import claim_code_issue
from .services.groups import group_add_users
from .services.names import user_refresh_name_keys
from .services.registration import user_approve_registrations, user_reject_registrations


def dated_xlsx_response(content: bytes, stem: str) -> HttpResponse:
    return xlsx_response(content, f"{stem}-{timezone.localdate():%Y%m%d}.xlsx")


class PortalUserChangeForm(UserChangeForm):
    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        if isinstance(upload, UploadedFile):
            try:
                avatar_image_open(upload)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message)
        return upload


class AddToGroupForm(forms.Form):
    group = forms.ModelChoiceField(queryset=CampusGroup.objects.all(), label=_("分组"))
    title = forms.CharField(
        label=_("职务"), max_length=50, required=False, help_text=_("如 班长、主席；可留空")
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        field.widget = AutocompleteSelect(GroupMembership._meta.get_field("group"), admin_site)
        field.widget.choices = field.choices


@admin.register(User)
class UserAdmin(ImportExportModelAdmin, DjangoUserAdmin):
    resource_classes = [UserResource]
    list_display = (
        "username",
        "full_name",
        "kind",
        "department",
        "school_class",
        "post",
        "phone",
        "is_active",
    )
    list_filter = (
        "kind",
        "department",
        ("school_class", admin.RelatedOnlyFieldListFilter),
        "campus_groups",
        "is_active",
        "awaiting_approval",
        "is_staff",
    )
    actions = ("add_to_group", "issue_claim_codes", "approve_registrations", "reject_registrations")
    list_select_related = ("department", "school_class")
    search_fields = ("username", "last_name", "first_name", "name_pinyin", "name_initials", "phone", "email")
    search_help_text = _("按工号/学号、姓名、拼音或手机号查找")
    ordering = ("username",)
    autocomplete_fields = ("department", "school_class")
    readonly_fields = ("last_login", "date_joined", "name_pinyin", "name_initials", "alpha", "wechat_unionid")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("个人信息"),
            {"fields": ("last_name", "first_name", "kind", "email", "department", "school_class", "avatar")},
        ),
        (_("通讯录"), {"fields": ("post", "phone", "tel", "qq", "wechat", "description")}),
        (
            _("通讯录可见范围"),
            {
                "fields": (
                    "post_visibility",
                    "tel_visibility",
                    "email_visibility",
                    "phone_visibility",
                    "qq_visibility",
                    "wechat_visibility",
                ),
                "classes": ("collapse",),
            },
        ),
        (_("微信与认领"), {"fields": ("wechat_openid", "wechat_unionid", "claimed_at", "awaiting_approval")}),
        (
            _("权限"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "classes": ("collapse",),
            },
        ),
        (_("其他"), {"fields": ("last_login", "date_joined", "name_pinyin", "name_initials", "alpha")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "last_name",
                    "first_name",
                    "kind",
                    "department",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    @admin.display(description=_("姓名"), ordering="name_pinyin")
    def full_name(self, obj):
        return obj.full_name

    form = PortalUserChangeForm

    def save_model(self, request, obj, form, change):
        """Names refresh the pinyin keys; an uploaded avatar is re-encoded like the API's."""
        upload = form.cleaned_data.get("avatar") if "avatar" in form.changed_data else None
        if isinstance(upload, UploadedFile):
            obj.avatar = form.initial.get("avatar") or ""
        user_refresh_name_keys(obj)
        super().save_model(request, obj, form, change)
        if isinstance(upload, UploadedFile):
            user_set_avatar(user=obj, upload=upload)

    @admin.action(description=_("将所选用户加入分组…"), permissions=["change"])
    def add_to_group(self, request, queryset):
        """Two steps: pick the group and a title, then add (members already in it are kept)."""
        form = AddToGroupForm(request.POST if "apply" in request.POST else None, admin_site=self.admin_site)
        if "apply" in request.POST and form.is_valid():
            group = form.cleaned_data["group"]
            added = group_add_users(
                group=group, user_ids=queryset.values_list("pk", flat=True), title=form.cleaned_data["title"]
            )
            self.message_user(
                request,
                _("已将 %(added)d 人加入“%(group)s”（已在组内或未激活的 %(skipped)d 人未变动）。")
                % {"added": added, "group": group, "skipped": queryset.count() - added},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("将所选用户加入分组"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "users": queryset.order_by("username")[:200],
            "user_count": queryset.count(),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "action": "add_to_group",
        }
        return TemplateResponse(request, "admin/accounts/user/add_to_group.html", context)

    @admin.action(description=_("为所选用户生成一次性认领码（下载 Excel）"), permissions=["change"])
    def issue_claim_codes(self, request, queryset):
        """Codes are shown only in this file; accounts already claimed or inactive get none."""
        users = list(queryset.filter(is_active=True, claimed_at__isnull=True).order_by("username"))
        issued = [(user, claim_code_issue(user=user, by=request.user)) for user in users]
        if not issued:
            self.message_user(request, _("所选用户都已认领或未激活，没有生成认领码。"), messages.WARNING)
            return None
        return dated_xlsx_response(exports.claim_code_sheet(issued=issued), "认领码")

    @admin.action(description=_("批准所选的注册申请"), permissions=["change"])
    def approve_registrations(self, request, queryset):
        approved = user_approve_registrations(user_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("已批准 %(n)d 个注册申请。") % {"n": approved}, messages.SUCCESS)

    @admin.action(description=_("拒绝所选的注册申请（删除申请的账号）"), permissions=["delete"])
    def reject_registrations(self, request, queryset):
        rejected = user_reject_registrations(user_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("已拒绝 %(n)d 个注册申请。") % {"n": rejected}, messages.SUCCESS)


class ContactSheetMixin:
    """The admin action that downloads the selected rows' contact sheets as one workbook."""

    contact_sheet_stem = "通讯录"

    def contact_sheet(self, objects) -> bytes:
        raise NotImplementedError

    @admin.action(description=_("导出所选的通讯录（Excel，仅自己可见的字段不导出）"), permissions=["view"])
    def export_contact_sheet(self, request, queryset):
        return dated_xlsx_response(self.contact_sheet(queryset), self.contact_sheet_stem)


@admin.register(Department)
class DepartmentAdmin(ContactSheetMixin, admin.ModelAdmin):
    # Annotated querysets lose Meta.ordering: paging (changelist, autocomplete) needs an order.
    ordering = ("name", "id")
    list_display = ("name", "user_count")
    search_fields = ("name",)
    actions = ("export_contact_sheet",)
    contact_sheet_stem = "系所通讯录"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(user_count=Count("department_users", filter=Q(department_users__is_active=True)))
        )

    @admin.display(description=_("人数"), ordering="user_count")
    def user_count(self, obj):
        return obj.user_count

    def contact_sheet(self, objects) -> bytes:
        return exports.department_contact_sheet(departments=objects)


@admin.register(SchoolClass)
class SchoolClassAdmin(ContactSheetMixin, ImportExportModelAdmin):
    # Annotated querysets lose Meta.ordering: paging (changelist, autocomplete) needs an order.
    ordering = ("-grade", "name")
    resource_classes = [SchoolClassResource]
    list_display = (
        "name",
        "grade",
        "major",
        "department",
        "head_teacher",
        "counsellor_names",
        "student_count",
    )
    list_filter = ("grade", "department")
    list_select_related = ("department", "head_teacher")
    search_fields = ("name", "major")
    autocomplete_fields = ("department", "counsellors", "head_teacher")
    actions = ("export_contact_sheet",)
    contact_sheet_stem = "班级通讯录"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(student_count=Count("students", filter=Q(students__is_active=True)))
            .prefetch_related("counsellors")
        )

    @admin.display(description=_("学生人数"), ordering="student_count")
    def student_count(self, obj):
        return obj.student_count

    @admin.display(description=_("辅导员"))
    def counsellor_names(self, obj):
        return "、".join(user.full_name or user.username for user in obj.counsellors.all())

    def contact_sheet(self, objects) -> bytes:
        return exports.school_class_contact_sheet(classes=objects)


class GroupMembershipInline(admin.TabularInline):
    """The current members: titles and manager flags editable, the person fixed (no query per
    row; large groups are easier in 分组成员)."""

    model = GroupMembership
    fields = ("user", "title", "is_manager")
    readonly_fields = ("user",)
    extra = 0
    verbose_name_plural = _("成员")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "group")
            .order_by("-is_manager", "title", "user__username")
        )


class NewMembershipFormSet(BaseInlineFormSet):
    """Blank rows only, under their own prefix (the current members have the other inline)."""

    def __init__(self, *args, **kwargs):
        kwargs["queryset"] = GroupMembership.objects.none()
        super().__init__(*args, **kwargs)

    @classmethod
    def get_default_prefix(cls):
        return "new-memberships"


class NewGroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    formset = NewMembershipFormSet
    fields = ("user", "title", "is_manager")
    autocomplete_fields = ("user",)
    extra = 1
    verbose_name = _("新成员")
    verbose_name_plural = _("添加成员")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CampusGroup)
class CampusGroupAdmin(admin.ModelAdmin):
    # Annotated querysets lose Meta.ordering: paging (changelist, autocomplete) needs an order.
    ordering = ("name",)
    list_display = ("name", "member_count", "manager_count", "description")
    search_fields = ("name",)
    inlines = (GroupMembershipInline, NewGroupMembershipInline)

    def get_queryset(self, request):
        active = Q(memberships__user__is_active=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("memberships", filter=active),
                manager_count=Count("memberships", filter=active & Q(memberships__is_manager=True)),
            )
        )

    @admin.display(description=_("成员数"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description=_("管理者数"), ordering="manager_count")
    def manager_count(self, obj):
        return obj.manager_count


@admin.register(GroupMembership)
class GroupMembershipAdmin(admin.ModelAdmin):
    """Every membership, for groups too large to edit inline."""

    list_display = ("group", "user", "title", "is_manager", "created_at")
    list_filter = ("group", "is_manager")
    list_select_related = ("group", "user")
    search_fields = ("user__username", "user__last_name", "user__first_name", "user__name_pinyin", "title")
    autocomplete_fields = ("group", "user")


@admin.register(Friendship)
class FriendshipAdmin(admin.ModelAdmin):
    list_display = ("user", "friend", "created_at")
    list_select_related = ("user", "friend")
    search_fields = ("user__username", "user__last_name", "friend__username", "friend__last_name")
    autocomplete_fields = ("user", "friend")


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """Signed-in devices. Deleting a row signs that device out."""

    list_display = ("user", "device", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name", "user__first_name", "device")
    readonly_fields = ("user", "device", "created_at", "last_used_at")
    fields = readonly_fields
    date_hierarchy = "last_used_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
