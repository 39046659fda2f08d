"""Tags (mirrors of departments, grades and groups) and mass sends with their totals."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wechathhu.core.errors import ApplicationError
from wechathhu.core.tasks import enqueue

from .. import services
from ..models import TAG_LIMIT, MassAudience, MassSend, MassStatus, OfficialTag
from ..services import mass


@admin.register(OfficialTag)
class OfficialTagAdmin(admin.ModelAdmin):
    """Tags are made by the synchronisation only (at most 100 at WeChat, classes excluded)."""

    change_list_template = "admin/official/officialtag/change_list.html"
    list_display = ("name", "source", "wechat_id", "member_count", "synced_at")
    list_filter = ("source",)
    search_fields = ("name",)
    fields = ("name", "source", "department", "grade", "group", "wechat_id", "synced_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description=_("已打标签粉丝"), ordering="member_total")
    def member_count(self, obj):
        return obj.member_total

    def get_urls(self):
        return [
            path("sync/", self.admin_site.admin_view(self.sync_view), name="official_officialtag_sync"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "tag_limit": TAG_LIMIT,
            "sync_url": reverse("admin:official_officialtag_sync"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def sync_view(self, request):
        if request.method != "POST" or not request.user.has_perm("official.change_officialtag"):
            raise PermissionDenied
        if not enqueue("official.tag_sync"):
            self.message_user(request, "任务队列暂时不可用，请稍后再试。", messages.ERROR)
        else:
            self.message_user(request, "已开始同步标签（系所、年级、分组）；完成后刷新本页查看。")
        return HttpResponseRedirect(reverse("admin:official_officialtag_changelist"))


class MassSendForm(forms.ModelForm):
    class Meta:
        model = MassSend
        fields = ("title", "kind", "content", "media_id", "audience", "tag", "school_class", "message")


class SendForm(forms.Form):
    force = forms.BooleanField(
        label=_("仍然发送"), required=False, help_text=_("有粉丝本月已收满群发次数时仍发送（他们将收不到）")
    )


@admin.register(MassSend)
class MassSendAdmin(admin.ModelAdmin):
    form = MassSendForm
    list_display = (
        "title",
        "audience_label",
        "status_label",
        "recipient_estimate",
        "submitted_at",
        "sent_count",
        "error_count",
        "message",
    )
    list_filter = ("status", "audience")
    list_select_related = ("tag", "school_class", "message")
    search_fields = ("title", "content")
    autocomplete_fields = ("school_class", "message")
    readonly_fields = (
        "status",
        "recipient_estimate",
        "submitted_at",
        "msg_id",
        "error",
        "finish_status",
        "total_count",
        "filter_count",
        "sent_count",
        "error_count",
        "finished_at",
        "send_link",
    )
    fieldsets = (
        (None, {"fields": ("title", "kind", "content", "media_id", "message")}),
        (
            _("范围"),
            {
                "fields": ("audience", "tag", "school_class"),
                "description": _(
                    "群发稀缺：每位粉丝每月最多收到 4 次。日常定向消息请用消息中心（模板消息）。"
                ),
            },
        ),
        (
            _("发送与回执"),
            {
                "fields": (
                    "send_link",
                    "status",
                    "recipient_estimate",
                    "submitted_at",
                    "msg_id",
                    "error",
                    "finish_status",
                    "total_count",
                    "filter_count",
                    "sent_count",
                    "error_count",
                    "finished_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != MassStatus.DRAFT:
            return (*self.form.Meta.fields, *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        services.mass_send_save(mass=obj)

    @admin.display(description=_("范围"))
    def audience_label(self, obj):
        if obj.audience == MassAudience.TAG:
            return f"标签：{obj.tag}"
        if obj.audience == MassAudience.CLASS:
            return f"班级：{obj.school_class}"
        return obj.get_audience_display()

    @admin.display(description=_("状态"), ordering="status")
    def status_label(self, obj):
        delivery = getattr(obj, "delivery", None)
        if obj.status == MassStatus.QUEUED and delivery is not None and delivery.status == "failed":
            return format_html(
                '<span style="color:#ba2121">失败：{}</span>', delivery.reason or delivery.last_error
            )
        return obj.get_status_display()

    @admin.display(description=_("发送"))
    def send_link(self, obj):
        if obj.pk is None or obj.status != MassStatus.DRAFT:
            return "-"
        return format_html(
            '<a class="button" href="{}">核对并发送…</a>',
            reverse("admin:official_masssend_send", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path("<int:pk>/send/", self.admin_site.admin_view(self.send_view), name="official_masssend_send"),
            *super().get_urls(),
        ]

    def send_view(self, request, pk):
        """Shows the audience and the allowance left this month, then sends (explicitly)."""
        send = get_object_or_404(MassSend.objects.select_related("tag", "school_class"), pk=pk)
        if not self.has_change_permission(request, send):
            raise PermissionDenied
        if send.status != MassStatus.DRAFT:
            self.message_user(request, "该群发已发送过。", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:official_masssend_change", args=[pk]))
        form = SendForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.mass_send_queue(mass=send, by=request.user, force=form.cleaned_data["force"])
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, f"“{send.title}”已提交发送；微信完成后回执中的成功、失败人数会显示在这里。"
                )
                return HttpResponseRedirect(reverse("admin:official_masssend_change", args=[pk]))
        allowance = mass.mass_allowance(mass=send)
        context = {
            **self.admin_site.each_context(request),
            "title": f"发送群发：{send.title}",
            "opts": self.model._meta,
            "form": form,
            "submit": "确认群发",
            "intro": "群发稀缺：服务号每位粉丝每月最多收到 4 次群发。请确认范围与内容。",
            "facts": [
                ("范围", self.audience_label(send)),
                ("关注的粉丝（估计）", allowance.recipients),
                ("本月还可群发给全部这些粉丝", f"{allowance.remaining} 次（每月 {allowance.limit} 次）"),
                ("内容", send.content or send.media_id),
            ],
        }
        return TemplateResponse(request, "admin/official/simple_form.html", context)
