"""Back office for activities: the form builder, clock-in items and their projector page, the
报名记录 list with the clock-in filter box, Excel export, manual clock-in and statistics."""

from __future__ import annotations

import segno
from django import forms as djforms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from wechathhu.core.downloads import xlsx_response
from wechathhu.core.errors import ApplicationError

from . import exports, form_schema, qr, selectors, services
from .filterlang import FilterError
from .models import (
    Activity,
    ClockinItem,
    ClockinRecord,
    ClockinSource,
    Enrollment,
    EnrollmentStatus,
)
from .widgets import FormBuilderWidget

# --- Activities ---------------------------------------------------------------------------------


def warn_officers_without_admin(model_admin, request, items) -> None:
    """Officers who cannot log in to the admin can show the code only in the mini-program."""
    not_staff = sorted(
        {u.username for item in items for u in item.officers.all() if not (u.is_staff and u.is_active)}
    )
    if not_staff:
        model_admin.message_user(
            request,
            f"打卡员 {'、'.join(not_staff)} 不是后台用户，只能在小程序中出示二维码，无法打开投影页。",
            messages.WARNING,
        )


class ActivityForm(djforms.ModelForm):
    class Meta:
        model = Activity
        fields = (
            "name",
            "description",
            "location",
            "time_start",
            "time_end",
            "open_for_enrollment",
            "enroll_from",
            "enroll_until",
            "participants_total_limit",
            "waiting_list_enabled",
            "form_metas",
            "audience_everyone",
            "audience_departments",
            "audience_classes",
            "audience_groups",
            "latitude",
            "longitude",
            "geofence_radius",
        )
        widgets = {"form_metas": FormBuilderWidget}

    def clean_form_metas(self):
        return form_schema.form_schema_dumps(self.cleaned_data.get("form_metas") or "{}")

    def clean(self):
        data = super().clean()
        geo = [data.get("latitude"), data.get("longitude"), data.get("geofence_radius")]
        if any(v is not None for v in geo) and not all(v is not None for v in geo):
            raise ValidationError("打卡范围须同时填写纬度、经度和范围（米），或都留空。")
        return data


class ClockinItemInline(admin.TabularInline):
    model = ClockinItem
    extra = 0
    fields = ("label", "kind", "from_time", "to_time", "deadline", "officers")
    autocomplete_fields = ("officers",)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    # Annotated querysets lose Meta.ordering: paging (changelist, autocomplete) needs an order.
    ordering = ("-time_start", "-id")
    form = ActivityForm
    inlines = (ClockinItemInline,)
    list_display = (
        "name",
        "time_start",
        "time_end",
        "location",
        "open_for_enrollment",
        "participants_total_limit",
        "enrolled_column",
        "links_column",
    )
    list_filter = ("open_for_enrollment", "time_start")
    list_editable = ("open_for_enrollment",)
    search_fields = ("name", "location")
    autocomplete_fields = ("audience_departments", "audience_classes", "audience_groups")
    fieldsets = (
        (None, {"fields": ("name", "description", "location", ("time_start", "time_end"))}),
        (
            "报名",
            {
                "fields": (
                    "open_for_enrollment",
                    ("enroll_from", "enroll_until"),
                    "participants_total_limit",
                    "waiting_list_enabled",
                    "form_metas",
                )
            },
        ),
        (
            "面向",
            {"fields": ("audience_everyone", "audience_departments", "audience_classes", "audience_groups")},
        ),
        ("打卡位置（可选）", {"fields": (("latitude", "longitude", "geofence_radius"),)}),
    )

    def get_queryset(self, request):
        return selectors.with_enrollment_counts(
            super().get_queryset(request).defer("description", "form_metas")
        )

    @admin.display(description="报名 / 候补")
    def enrolled_column(self, obj):
        return f"{obj.enrollment_count} / {obj.waiting_count}"

    @admin.display(description="")
    def links_column(self, obj):
        enrollments = (
            reverse("admin:activities_enrollment_changelist") + "?" + urlencode({"activity": obj.pk})
        )
        stats = reverse("admin:activities_activity_statistics", args=[obj.pk])
        return format_html('<a href="{}">报名记录</a> · <a href="{}">签到统计</a>', enrollments, stats)

    def save_model(self, request, obj, form, change):
        promoted = services.activity_save(activity=obj)
        if promoted:
            self.message_user(request, f"名额增加，已从候补名单递补 {len(promoted)} 人并通知本人。")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        warn_officers_without_admin(self, request, form.instance.clockin_items.all())

    def get_urls(self):
        return [
            path(
                "<int:pk>/statistics/",
                self.admin_site.admin_view(self.statistics_view),
                name="activities_activity_statistics",
            ),
            *super().get_urls(),
        ]

    def statistics_view(self, request, pk):
        activity = get_object_or_404(Activity, pk=pk)
        if not self.has_view_permission(request, activity):
            raise PermissionDenied
        stats = selectors.activity_statistics(activity=activity)
        context = {
            **self.admin_site.each_context(request),
            "title": f"签到统计：{activity.name}",
            "opts": self.model._meta,
            "activity": activity,
            "stats": stats,
            "enrollments_url": reverse("admin:activities_enrollment_changelist")
            + "?"
            + urlencode({"activity": activity.pk}),
        }
        return TemplateResponse(request, "admin/activities/statistics.html", context)


# --- Clock-in items and the projector page ------------------------------------------------------


@admin.register(ClockinItem)
class ClockinItemAdmin(admin.ModelAdmin):
    # Annotated querysets lose Meta.ordering: paging (changelist, autocomplete) needs an order.
    ordering = ("activity", "from_time", "id")
    list_display = ("label", "activity", "kind", "from_time", "to_time", "records_column", "projector_column")
    list_filter = ("kind",)
    search_fields = ("label", "activity__name")
    autocomplete_fields = ("activity", "officers")
    list_select_related = ("activity",)

    def get_queryset(self, request):
        qs = selectors.clockin_items_for_staff(user=request.user)
        return qs.annotate(n_records=Count("records"))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        warn_officers_without_admin(self, request, [form.instance])

    def _is_officer(self, request, obj=None):
        if not request.user.is_authenticated:  # the login page lists the apps for anonymous users too
            return False
        items = request.user.clockin_duties
        return items.filter(pk=obj.pk).exists() if obj is not None else items.exists()

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._is_officer(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._is_officer(request, obj)

    @admin.display(description="已打卡")
    def records_column(self, obj):
        return obj.n_records

    @admin.display(description="二维码")
    def projector_column(self, obj):
        url = reverse("admin:activities_clockinitem_projector", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">投影二维码</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/projector/",
                self.admin_site.admin_view(self.projector_view),
                name="activities_clockinitem_projector",
            ),
            path(
                "<int:pk>/projector/code/",
                self.admin_site.admin_view(self.projector_code_view),
                name="activities_clockinitem_projector_code",
            ),
            *super().get_urls(),
        ]

    def _item_for_projector(self, request, pk) -> ClockinItem:
        item = get_object_or_404(ClockinItem.objects.select_related("activity"), pk=pk)
        if not selectors.user_can_show_code(user=request.user, item=item):
            raise PermissionDenied
        return item

    def projector_view(self, request, pk):
        item = self._item_for_projector(request, pk)
        context = {
            "item": item,
            "code_url": reverse("admin:activities_clockinitem_projector_code", args=[item.pk]),
            "step_seconds": qr.step_seconds(),
        }
        return TemplateResponse(request, "admin/activities/projector.html", context)

    def projector_code_view(self, request, pk):
        """The current code as an SVG, the seconds until it changes, and the live count."""
        item = self._item_for_projector(request, pk)
        key = qr.make_key(item.pk)
        svg = segno.make(qr.scan_url(key), error="m").svg_inline(
            omitsize=True, border=2, dark="#000", light="#fff"
        )
        now = timezone.now()
        progress = selectors.clockin_item_progress(item=item)
        return JsonResponse(
            {
                "key": key,
                "svg": svg,
                "code": qr.short_code(item.pk),
                "expires_in": qr.seconds_left(),
                "label": item.label,
                "activity_name": item.activity.name,
                "count": progress.clocked,
                "enrolled": progress.enrolled,
                "open": item.from_time <= now <= item.to_time,
            },
            headers={"Cache-Control": "no-store"},
        )


# --- 报名记录 -------------------------------------------------------------------------------------


class ActivityListFilter(admin.SimpleListFilter):
    """活动: the twenty most recent activities (plus the chosen one), without loading them all."""

    title = "活动"
    parameter_name = "activity"

    def lookups(self, request, model_admin):
        recent = list(Activity.objects.order_by("-time_start").values_list("pk", "name")[:20])
        chosen = self.value()
        if chosen and chosen.isdigit() and all(str(pk) != chosen for pk, _ in recent):
            recent += list(Activity.objects.filter(pk=int(chosen)).values_list("pk", "name"))
        return [(str(pk), name) for pk, name in recent]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(activity_id=int(value))


class EnrollmentAdminForm(djforms.ModelForm):
    participating_metas = djforms.CharField(
        label="报名信息",
        widget=djforms.Textarea(attrs={"rows": 6, "cols": 80}),
        required=False,
        help_text="JSON 对象：字段名 → 回答；保存时按活动的报名表单校验。",
    )

    class Meta:
        model = Enrollment
        fields = ("activity", "user", "participating_metas")

    def clean_participating_metas(self):
        raw = self.cleaned_data.get("participating_metas") or "{}"
        activity = self.cleaned_data.get("activity") or getattr(self.instance, "activity", None)
        if activity is None:
            return raw
        schema = form_schema.form_schema_validate(activity.form_metas)
        return form_schema.dumps(form_schema.answers_validate(schema, form_schema.answers_parse(raw)))


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    """报名记录. Filtered by one activity, it shows one column per form field and per clock-in item;
    the search box takes a clock-in filter expression (e.g. 「签到了但未签退」)."""

    form = EnrollmentAdminForm
    change_list_template = "admin/activities/enrollment/change_list.html"
    list_filter = (ActivityListFilter, "status")
    search_fields = ("clockin_filter",)  # shows the box; get_search_results reads it as an expression
    search_help_text = (
        "打卡筛选：打卡项标签，且 / 或 / 未，括号，如「签到了但未签退」「(签到或签退)且未午餐」"
    )
    list_per_page = 50
    autocomplete_fields = ("activity", "user")
    actions = ("delete_selected_enrollments",)

    # Which activity the list is for (one query per request, cached on the request).
    def _activity(self, request) -> Activity | None:
        if not hasattr(request, "_activities_list_activity"):
            value = request.GET.get("activity", "")
            activity = None
            if value.isdigit():
                activity = Activity.objects.filter(pk=int(value)).prefetch_related("clockin_items").first()
            request._activities_list_activity = activity
        return request._activities_list_activity

    def get_queryset(self, request):
        return selectors.enrollment_list()

    def get_search_results(self, request, queryset, search_term):
        try:
            queryset = selectors.enrollment_clockin_filter(
                queryset, expression=search_term, activity=self._activity(request)
            )
        except FilterError as exc:
            messages.error(request, f"打卡筛选有误，{exc.message}　→　{exc.marked}")
            return queryset.none(), False
        return queryset, False

    def get_list_display(self, request):
        activity = self._activity(request)
        columns = ["user_column", "name_column", "group_column", "status", "enroll_time_column"]
        if activity is None:
            return [*columns, "activity", "answers_column", "clockins_column"]
        schema = form_schema.form_schema_validate(activity.form_metas)
        columns += [self._answer_column(i, label) for i, label in enumerate(schema)]
        columns += [self._clockin_column(item) for item in activity.clockin_items.all()]
        return columns

    def get_list_display_links(self, request, list_display):
        return ["user_column"]

    @admin.display(description="工号/学号", ordering="user__username")
    def user_column(self, obj):
        return obj.user.username

    @admin.display(description="姓名")
    def name_column(self, obj):
        return obj.user.full_name

    @admin.display(description="系所 / 班级")
    def group_column(self, obj):
        parts = [x.name for x in (obj.user.department, obj.user.school_class) if x]
        return " / ".join(parts) or "-"

    @admin.display(description="报名时间", ordering="created_at")
    def enroll_time_column(self, obj):
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

    @staticmethod
    def _answers(obj) -> dict:
        if not hasattr(obj, "_answers"):
            obj._answers = form_schema.answers_load(obj.participating_metas)
        return obj._answers

    @staticmethod
    def _records(obj) -> dict:
        if not hasattr(obj, "_records_by_item"):
            obj._records_by_item = {r.item_id: r for r in obj.clockin_records.all()}
        return obj._records_by_item

    def _answer_column(self, index, label):
        def column(obj):
            return form_schema.answer_display(self._answers(obj).get(label))

        column.short_description = label
        column.__name__ = f"answer_{index}"
        return column

    def _clockin_column(self, item):
        def column(obj):
            record = self._records(obj).get(item.pk)
            if record is None:
                return format_html('<span style="color:{}">✗ 未打卡</span>', "#ba2121")
            when = timezone.localtime(record.created_at).strftime("%m-%d %H:%M")
            manual = "（补录）" if record.source == ClockinSource.MANUAL else ""
            return format_html('<span style="color:#2e7d32">✓ {}{}</span>', when, manual)

        column.short_description = f"打卡：{item.label}"
        column.__name__ = f"clockin_{item.pk}"
        return column

    @admin.display(description="报名信息")
    def answers_column(self, obj):
        return format_html_join(
            "",
            "<div><strong>{}</strong> {}</div>",
            ((k, form_schema.answer_display(v)) for k, v in self._answers(obj).items()),
        )

    @admin.display(description="打卡情况")
    def clockins_column(self, obj):
        return "、".join(r.item.label for r in obj.clockin_records.all()) or "-"

    # Changes go through the services, so the form is validated and places are recounted.
    def save_model(self, request, obj, form, change):
        if change:
            services.enrollment_update_answers(enrollment=obj, participating_metas=obj.participating_metas)
        else:
            created = services.enrollment_create_by_staff(
                activity=obj.activity, user=obj.user, participating_metas=obj.participating_metas
            )
            obj.pk, obj.status = created.pk, created.status
            if created.status == EnrollmentStatus.WAITING:
                self.message_user(request, "活动名额已满，已加入候补名单。", messages.WARNING)

    def get_readonly_fields(self, request, obj=None):
        return ("activity", "user") if obj else ()

    def delete_model(self, request, obj):
        services.enrollment_delete_by_staff(enrollment=obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        activity = self._activity(request)
        if activity is not None and self.has_change_permission(request):
            for item in activity.clockin_items.all():
                name = f"clockin_manual_{item.pk}"
                actions[name] = (self._manual_action(item), name, f"手动打卡（补录）：{item.label}")
        return actions

    @admin.action(description="删除所选报名记录（空出的名额由候补递补）", permissions=["delete"])
    def delete_selected_enrollments(self, request, queryset):
        count = 0
        for enrollment in queryset:
            services.enrollment_delete_by_staff(enrollment=enrollment)
            count += 1
        self.message_user(request, f"已删除 {count} 条报名记录。")

    def _manual_action(self, item):
        def action(modeladmin, request, queryset):
            created, skipped = services.clockin_records_manual_bulk(
                item=item, enrollments=queryset.select_related("user"), by=request.user
            )
            modeladmin.message_user(
                request, f"「{item.label}」补录打卡 {created} 人，跳过 {skipped} 人（已打卡或候补）。"
            )

        return action

    def get_urls(self):
        return [
            path(
                "export/", self.admin_site.admin_view(self.export_view), name="activities_enrollment_export"
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The rows of the list as it is filtered (activity, status, clock-in expression), as Excel."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        activity = self._activity(request)
        content = exports.enrollments_workbook(queryset=queryset, activity=activity)
        name = f"报名记录-{activity.name if activity else '全部'}-{timezone.localdate():%Y%m%d}.xlsx"
        return xlsx_response(content, name)

    def changelist_view(self, request, extra_context=None):
        activity = self._activity(request)
        query = request.GET.urlencode()
        extra = {
            "list_activity": activity,
            "export_url": reverse("admin:activities_enrollment_export") + (f"?{query}" if query else ""),
            "statistics_url": reverse("admin:activities_activity_statistics", args=[activity.pk])
            if activity
            else None,
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})


class ClockinRecordAdminForm(djforms.ModelForm):
    class Meta:
        model = ClockinRecord
        fields = ("item", "user")

    def clean(self):
        data = super().clean()
        item, user = data.get("item"), data.get("user")
        if item and user:
            try:
                services.clockin_manual_enrollment(item=item, user=user)
            except ApplicationError as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return data


@admin.register(ClockinRecord)
class ClockinRecordAdmin(admin.ModelAdmin):
    form = ClockinRecordAdminForm
    list_display = ("item", "user", "created_at", "source", "recorded_by")
    list_filter = ("source",)
    search_fields = (
        "user__username",
        "user__last_name",
        "user__first_name",
        "item__label",
        "item__activity__name",
    )
    list_select_related = ("item", "item__activity", "user", "recorded_by")
    autocomplete_fields = ("item", "user")

    def has_change_permission(self, request, obj=None):
        return False  # a record is a fact: delete it, or add a new one

    def save_model(self, request, obj, form, change):
        result = services.clockin_record_manual(item=obj.item, user=obj.user, by=request.user)
        obj.pk = result.record.pk
        if not result.created:
            self.message_user(request, "该用户此前已打过卡，未新增记录。", messages.WARNING)
