from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wechathhu.core.admin import OUTBOX_FIELDS, OUTBOX_LIST_DISPLAY, OutboxAdminMixin

from . import services
from .models import Guide, GuideCategory, GuideMailRequest


class GuideInline(admin.TabularInline):
    """The category's guides at a glance; files are uploaded on the guide's own page."""

    model = Guide
    fields = ("name", "file_name", "is_published", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(GuideCategory)
class GuideCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    inlines = (GuideInline,)


@admin.register(Guide)
class GuideAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "is_published", "file_name", "size", "updated_at", "download")
    list_filter = ("is_published", "category")
    list_select_related = ("category",)
    search_fields = ("name", "description", "file_name")
    autocomplete_fields = ("category",)
    readonly_fields = ("file_name", "size", "content_type", "created_at", "updated_at", "download")
    fields = (
        "name",
        "category",
        "description",
        "file",
        "is_published",
        "file_name",
        "size",
        "content_type",
        "created_at",
        "updated_at",
        "download",
    )
    actions = ("publish", "unpublish")
    # MEDIA is never served by URL, so no "currently: <link>" widget; the 下载 link is the way in.
    formfield_overrides = {models.FileField: {"widget": forms.FileInput}}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["file"].help_text = "允许的类型：{}；不超过 {}。{}".format(
            "、".join(settings.GUIDES_ALLOWED_EXTENSIONS),
            filesizeformat(settings.GUIDES_MAX_UPLOAD_SIZE),
            "不选择文件则保留现有文件。" if obj else "",
        )
        return form

    @admin.display(description=_("大小"), ordering="file_size")
    def size(self, obj):
        return filesizeformat(obj.file_size) if obj.pk else "-"

    @admin.display(description=_("下载"))
    def download(self, obj):
        if not obj.pk:
            return "-"
        return format_html('<a href="{}">下载</a>', reverse("guides:guide-detail", kwargs={"pk": obj.pk}))

    def get_queryset(self, request):
        return super().get_queryset(request).defer("description")

    def save_model(self, request, obj, form, change):
        services.guide_save(guide=obj)

    @admin.action(description=_("发布所选指南"), permissions=("change",))
    def publish(self, request, queryset):
        count = services.guide_set_published(
            guide_ids=list(queryset.values_list("pk", flat=True)), published=True
        )
        self.message_user(request, f"已发布 {count} 个指南。", messages.SUCCESS)

    @admin.action(description=_("下架所选指南"), permissions=("change",))
    def unpublish(self, request, queryset):
        count = services.guide_set_published(
            guide_ids=list(queryset.values_list("pk", flat=True)), published=False
        )
        self.message_user(request, f"已下架 {count} 个指南。", messages.SUCCESS)


@admin.register(GuideMailRequest)
class GuideMailRequestAdmin(OutboxAdminMixin, admin.ModelAdmin):
    """Every "e-mail me this guide" request, with its outcome; unsent ones can be sent again."""

    list_display = ("guide_name", "user", "email", "delivery", *OUTBOX_LIST_DISPLAY, "created_at")
    list_filter = (*OutboxAdminMixin.list_filter, "delivery", "created_at")
    list_select_related = ("user",)
    search_fields = ("guide_name", "email", "user__username", "user__last_name", "user__first_name")
    readonly_fields = ("user", "guide", "guide_name", "email", "delivery", *OUTBOX_FIELDS)
    fields = readonly_fields
