"""Admin for repairs: categories with their mail recipients, and the request desk.

Every change of status, assignee or category made here (the list's editable columns, the
actions, the change form) goes through ``repairs.services``, so the transition table holds.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from wechathhu.core.admin import OUTBOX_FIELDS, OUTBOX_LIST_DISPLAY, OutboxAdminMixin
from wechathhu.core.errors import ApplicationError

from . import selectors, services
from .models import (
    OPEN_STATUSES,
    FaultCategory,
    NotificationRecipient,
    RepairEvent,
    RepairNotification,
    RepairPhoto,
    RepairRequest,
    RepairStatus,
)
from .services import Role


class NotificationRecipientInline(admin.TabularInline):
    model = NotificationRecipient
    fields = ("name", "email", "user")
    autocomplete_fields = ("user",)
    extra = 1


@admin.register(FaultCategory)
class FaultCategoryAdmin(admin.ModelAdmin):
    # Annotated querysets lose Meta.ordering: paging (changelist, autocomplete) needs an order.
    ordering = ("position", "name")
    list_display = ("name", "position", "response_hours", "is_active", "recipient_count")
    list_editable = ("position", "response_hours", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = (NotificationRecipientInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(recipient_count=Count("recipients"))

    def save_model(self, request, obj, form, change):
        services.fault_category_save(category=obj, changed=form.changed_data if change else ())

    @admin.display(description=_("邮件提醒人数"), ordering="recipient_count")
    def recipient_count(self, obj):
        return obj.recipient_count


@admin.register(NotificationRecipient)
class NotificationRecipientAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "category_display", "user")
    list_filter = ("category",)
    list_select_related = ("category", "user")
    search_fields = ("name", "email")
    autocomplete_fields = ("user", "category")
    fields = ("name", "email", "category", "user")

    @admin.display(description=_("故障分类"), ordering="category__name")
    def category_display(self, obj):
        return obj.category.name if obj.category else "全部类别（含未分类）"


@admin.register(RepairNotification)
class RepairNotificationAdmin(OutboxAdminMixin, admin.ModelAdmin):
    """Every new-request mail with its delivery state, for operators."""

    list_display = ("request", "name", "email", *OUTBOX_LIST_DISPLAY)
    list_select_related = ("request",)
    search_fields = ("email", "name", "=request__id")
    readonly_fields = ("request", "recipient", "name", "email", *OUTBOX_FIELDS)


class StaffTransitionFormMixin:
    """Refuses, with a form error, the status moves the transition table does not allow staff."""

    def clean(self):
        data = super().clean()
        old, new = self.initial.get("status"), data.get("status")
        if self.instance.pk and new and old and new != old:
            error = services.transition_error(from_status=old, to_status=new, roles={Role.STAFF})
            if error:
                self.add_error("status", error)
        return data


class RepairRequestListForm(StaffTransitionFormMixin, forms.ModelForm):
    class Meta:
        model = RepairRequest
        fields = ("status", "assignee")


class RepairRequestChangeForm(StaffTransitionFormMixin, forms.ModelForm):
    reply = forms.CharField(
        label=_("回复报修人"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("报修人可以在小程序中看到，并会收到消息提醒；与状态变更一同提交时作为处理说明"),
    )
    note = forms.CharField(
        label=_("内部备注"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("仅工作人员可见"),
    )

    class Meta:
        model = RepairRequest
        fields = ("status", "assignee", "category")


class RepairPhotoInline(admin.TabularInline):
    model = RepairPhoto
    fields = ("preview", "content_type", "size")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("照片"))
    def preview(self, obj):
        url = reverse("repairs:repair-photo", args=[obj.request_id, obj.pk])
        return format_html('<a href="{0}" target="_blank"><img src="{0}" style="max-height:120px"></a>', url)


class RepairEventInline(admin.TabularInline):
    model = RepairEvent
    fields = ("created_at", "actor", "kind", "from_status", "to_status", "content", "is_internal")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("处理记录（全部，含内部备注）")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class RepairNotificationInline(admin.TabularInline):
    model = RepairNotification
    fields = ("name", "email", "status", "attempts", "sent_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("是否超时")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("已超时（未解决）")), ("no", _("未超时")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES, due_at__lt=now)
        if self.value() == "no":
            return queryset.exclude(status__in=OPEN_STATUSES, due_at__lt=now)
        return queryset


@admin.register(RepairRequest)
class RepairRequestAdmin(admin.ModelAdmin):
    change_list_template = "admin/repairs/repairrequest/change_list.html"
    form = RepairRequestChangeForm
    list_display = (
        "id",
        "location",
        "category",
        "status",
        "assignee",
        "reporter",
        "age",
        "deadline",
        "rating",
    )
    list_display_links = ("id", "location")
    list_editable = ("status", "assignee")
    # Dates are filtered by range (the "created_at" filter); no date_hierarchy, which needs the
    # time-zone tables on MySQL/MariaDB (CONVERT_TZ) that a deployment may not have loaded.
    list_filter = (
        "status",
        OverdueFilter,
        "category",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    list_select_related = ("category", "assignee", "user")
    search_fields = (
        "=id",
        "location",
        "description",
        "user__username",
        "user__last_name",
        "user__first_name",
    )
    search_help_text = _("按编号、地点、描述或报修人查找")
    autocomplete_fields = ("assignee",)
    list_per_page = 50
    actions = ("accept", "mark_solved", "close", "reopen", "assign_to_me", "resend_mail")
    fieldsets = (
        (
            _("报修"),
            {
                "fields": (
                    "reporter_card",
                    "location",
                    "description",
                    "created_at",
                    "due_at",
                    "rating_display",
                )
            },
        ),
        (_("处理"), {"fields": ("status", "assignee", "category", "reply", "note")}),
    )
    readonly_fields = ("reporter_card", "location", "description", "created_at", "due_at", "rating_display")
    inlines = (RepairPhotoInline, RepairEventInline, RepairNotificationInline)

    def has_add_permission(self, request):
        return False  # requests come from the mini-program

    def get_changelist_form(self, request, **kwargs):
        # One query for the assignee choices of every row (a plain select would query per row).
        staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        choices = [
            ("", "---------"),
            *((u.pk, f"{u.full_name or u.username}（{u.username}）") for u in staff),
        ]

        class ListForm(RepairRequestListForm):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.fields["assignee"].widget = forms.Select(choices=choices)

        return ListForm

    def get_queryset(self, request):
        return super().get_queryset(request).defer("description")

    # --- columns --------------------------------------------------------------------------------

    @admin.display(description=_("报修人"), ordering="user__username")
    def reporter(self, obj):
        return obj.user.full_name or obj.user.username if obj.user else "-"

    @admin.display(description=_("时长"), ordering="created_at")
    def age(self, obj):
        """How long the request has been open (or took, once solved or closed)."""
        end = obj.closed_at or obj.solved_at or timezone.now()
        return timesince(obj.created_at, end, depth=1)

    @admin.display(description=_("处理时限"), ordering="due_at")
    def deadline(self, obj):
        local = timezone.localtime(obj.due_at).strftime("%m-%d %H:%M")
        if selectors.repair_request_is_overdue(obj):
            return format_html(
                '<strong style="color:#c00" title="{}">⚠ 超时 {}</strong>', "已超过处理时限", local
            )
        return local

    @admin.display(description=_("报修人"))
    def reporter_card(self, obj):
        user = obj.user
        if user is None:
            return "（账号已删除）"
        parts = [user.full_name or user.username, user.username]
        if user.department_id:
            parts.append(user.department.name)
        parts += [value for value in (user.phone, user.email) if value]
        return " ｜ ".join(parts)

    @admin.display(description=_("评价"))
    def rating_display(self, obj):
        if obj.rating is None:
            return "-"
        return f"{'★' * obj.rating}{'☆' * (5 - obj.rating)} {obj.rating_comment}"

    # --- saving through the services -------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data, initial = form.cleaned_data, form.initial
        try:
            if "category" in form.changed_data:
                services.repair_request_set_category(repair=obj, category=data["category"], by=request.user)
            if "assignee" in form.changed_data:
                services.repair_request_assign(repair=obj, assignee=data["assignee"], by=request.user)
            reply = (data.get("reply") or "").strip()
            if "status" in form.changed_data and data["status"] != initial.get("status"):
                services.repair_request_change_status(
                    repair=obj, to_status=data["status"], by=request.user, comment=reply
                )
                reply = ""
            if reply:
                services.repair_request_comment(repair=obj, by=request.user, content=reply, internal=False)
            if (data.get("note") or "").strip():
                services.repair_request_comment(
                    repair=obj, by=request.user, content=data["note"], internal=True
                )
        except ApplicationError as exc:
            self.message_user(request, f"#{obj.pk}：{exc.message}", messages.ERROR)

    # --- actions ----------------------------------------------------------------------------------

    def _change_status(self, request, queryset, to_status, *, only_from=None):
        done, refused = 0, []
        for repair in queryset:
            if only_from is not None and repair.status not in only_from:
                refused.append(f"#{repair.pk}（当前为“{repair.get_status_display()}”）")
                continue
            try:
                services.repair_request_change_status(repair=repair, to_status=to_status, by=request.user)
                done += 1
            except ApplicationError as exc:
                refused.append(f"#{repair.pk}（{exc.message}）")
        if done:
            self.message_user(request, f"已将 {done} 条报修改为“{RepairStatus(to_status).label}”。")
        if refused:
            self.message_user(request, "未更改：" + "；".join(refused), messages.WARNING)

    @admin.action(description=_("受理（改为处理中）"), permissions=("change",))
    def accept(self, request, queryset):
        self._change_status(request, queryset, RepairStatus.PROCESSING, only_from={RepairStatus.PENDING})

    @admin.action(description=_("标记为已解决"), permissions=("change",))
    def mark_solved(self, request, queryset):
        self._change_status(request, queryset, RepairStatus.SOLVED)

    @admin.action(description=_("关闭"), permissions=("change",))
    def close(self, request, queryset):
        self._change_status(request, queryset, RepairStatus.CLOSED)

    @admin.action(description=_("重新打开（改为处理中）"), permissions=("change",))
    def reopen(self, request, queryset):
        self._change_status(
            request, queryset, RepairStatus.PROCESSING, only_from={RepairStatus.SOLVED, RepairStatus.CLOSED}
        )

    @admin.action(description=_("指派给我"), permissions=("change",))
    def assign_to_me(self, request, queryset):
        for repair in queryset:
            services.repair_request_assign(repair=repair, assignee=request.user, by=request.user)
        self.message_user(request, f"已将 {queryset.count()} 条报修指派给您。")

    @admin.action(description=_("重发未送达的通知邮件"), permissions=("change",))
    def resend_mail(self, request, queryset):
        count = services.repair_requests_resend_mail(repair_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"已重新排队 {count} 封未送达的通知邮件。")

    # --- dashboard --------------------------------------------------------------------------------

    def get_urls(self):
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="repairs_repairrequest_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        rows = selectors.repair_dashboard(now=now)
        widest = max((row.total for row in rows), default=0) or 1
        bar_width, bar_height, label_width = 520, 26, 150
        colours = dict(
            zip(
                [key for key, *_bounds in selectors.AGE_BUCKETS],
                ("#8cc5ff", "#3a8ee6", "#e6a23c", "#d9461e"),
                strict=True,
            )
        )
        chart_rows = []
        for index, row in enumerate(rows):
            x, segments = label_width, []
            for key, label, *_bounds in selectors.AGE_BUCKETS:
                count = row.buckets[key]
                width = round(bar_width * count / widest, 1)
                if count:
                    segments.append(
                        {"x": x, "width": width, "count": count, "label": label, "colour": colours[key]}
                    )
                x += width
            y = 10 + index * (bar_height + 12)
            chart_rows.append(
                {"row": row, "y": y, "text_y": y + 18, "segments": segments, "total_x": round(x + 8, 1)}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "报修看板：未解决的报修",
            "opts": self.model._meta,
            "rows": rows,
            "chart_rows": chart_rows,
            "chart_height": 20 + len(rows) * (bar_height + 12),
            "bar_height": bar_height,
            "label_width": label_width,
            "label_x": label_width - 8,
            "chart_width": label_width + bar_width + 120,
            "legend": [(label, colours[key]) for key, label, *_bounds in selectors.AGE_BUCKETS],
            "overdue": selectors.repair_request_list_overdue(now=now)[:50],
            "total_open": sum(row.total for row in rows),
            "total_overdue": sum(row.overdue for row in rows),
            "now": now,
        }
        return TemplateResponse(request, "admin/repairs/repairrequest/dashboard.html", context)
