from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from .models import AuthToken, CampusGroup, Department, GroupMembership, SchoolClass, User
from .resources import UserResource
from .services import user_refresh_name_keys


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
    list_filter = ("kind", "department", "is_active", "is_staff")
    list_select_related = ("department", "school_class")
    search_fields = ("username", "last_name", "first_name", "name_pinyin", "name_initials", "phone", "email")
    search_help_text = _("按工号/学号、姓名、拼音或手机号查找")
    ordering = ("username",)
    autocomplete_fields = ("department", "school_class")
    readonly_fields = ("last_login", "date_joined", "name_pinyin", "name_initials", "alpha")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("个人信息"),
            {"fields": ("last_name", "first_name", "kind", "email", "department", "school_class", "avatar")},
        ),
        (_("通讯录"), {"fields": ("post", "phone", "tel", "qq", "wechat", "description")}),
        (_("微信"), {"fields": ("wechat_openid",)}),
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

    def save_model(self, request, obj, form, change):
        user_refresh_name_keys(obj)
        super().save_model(request, obj, form, change)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "user_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_count=Count("department_users"))

    @admin.display(description=_("人数"), ordering="user_count")
    def user_count(self, obj):
        return obj.user_count


@admin.register(SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ("name", "grade", "major", "department")
    list_filter = ("grade", "department")
    list_select_related = ("department",)
    search_fields = ("name", "major")
    autocomplete_fields = ("department", "counsellors", "head_teacher")


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(CampusGroup)
class CampusGroupAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)
    inlines = (GroupMembershipInline,)


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
