"""Message management in the Django admin: compose, schedule, follow reading, withdraw.

Every write goes through ``messaging.services``; the admin only adapts forms to them. Senders
see and manage their own messages; superusers see all.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.models import CampusGroup, Department, SchoolClass, User, UserKind
from wechathhu.core.admin import OUTBOX_FIELDS, OUTBOX_LIST_DISPLAY, OutboxAdminMixin
from wechathhu.core.errors import ApplicationError

from . import (
    admin_content,
    admin_delivery,
    admin_report,
    attachments,
    audiences,
    compose,
    exports,
    selectors,
    services,
)
from .models import (
    Category,
    DeliveryPreference,
    DigestDelivery,
    DigestItem,
    Message,
    MessageDelivery,
    MessageTemplate,
    PushDelivery,
)

# --- Compose form ----------------------------------------------------------------------------------


def _user_picker():
    return AutocompleteSelectMultiple(Message._meta.get_field("recipient_users"), admin.site)


class MessageAdminForm(forms.ModelForm):
    """Compose (add) or edit (change) a message. Audiences are chosen on add only."""

    recipients = forms.ModelMultipleChoiceField(
        label=_("接收者"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=_user_picker(),
        help_text=_("直接指定的用户"),
    )
    kinds = forms.MultipleChoiceField(
        label=_("按身份"), choices=UserKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    files = admin_content.files_field()
    add_recipients = forms.ModelMultipleChoiceField(
        label=_("追加接收者"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=_user_picker(),
        help_text=_("把这条定向消息再发给这些用户（已是接收者的会被跳过）"),
    )

    def clean_files(self):
        return admin_content.clean_files(self.cleaned_data.get("files") or [])

    class Meta:
        model = Message
        fields = (
            "title",
            "content",
            "type",
            "priority",
            "category",
            "is_global",
            "audience_departments",
            "audience_classes",
            "audience_groups",
            "published_at",
            "expires_at",
            "remind_unread_after_hours",
            "is_active",
        )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        if "published_at" in self.fields:
            self.fields["published_at"].help_text = _("晚于现在即定时发布：到时才对用户可见")
        if "expires_at" in self.fields:
            self.fields["expires_at"].help_text = _("过期后不再显示；留空表示永不过期")
        if request is not None and not self.instance.pk:
            self._limit_pickers(audiences.sender_scope(user=request.user))
        if "category" in self.fields:
            current = self.instance.category_id if self.instance.pk else None
            self.fields["category"].queryset = Category.objects.filter(
                Q(is_active=True) | Q(pk=current)
            ).order_by("position", "id")

    def _limit_pickers(self, scope):
        """A teacher picks among their own classes, groups and people (``messaging.audiences``)."""
        if scope.unrestricted:
            return
        limits = {
            "recipients": User.objects.filter(pk__in=audiences.scope_member_ids(scope=scope)),
            "audience_departments": Department.objects.none(),
            "audience_classes": SchoolClass.objects.filter(pk__in=sorted(scope.class_ids)),
            "audience_groups": CampusGroup.objects.filter(pk__in=sorted(scope.group_ids)),
        }
        for name, queryset in limits.items():
            if name in self.fields:
                self.fields[name].queryset = queryset
        if "kinds" in self.fields:
            self.fields["kinds"].choices = []

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            return data
        is_global = bool(data.get("is_global"))
        audience = {
            "recipient_ids": [u.pk for u in data.get("recipients") or ()],
            "department_ids": [d.pk for d in data.get("audience_departments") or ()],
            "class_ids": [c.pk for c in data.get("audience_classes") or ()],
            "group_ids": [g.pk for g in data.get("audience_groups") or ()],
            "kinds": data.get("kinds") or (),
        }
        if not is_global and not any(audience.values()):  # the form's own words for its fields
            raise ValidationError(_("请选择接收者、系所、班级、分组或身份，或勾选“全局消息”。"))
        try:  # the service's rules, shown on the form (save_form cannot show an error)
            services.message_create_check(
                sender=self.request.user, is_global=is_global, **(audience if not is_global else {})
            )
        except ApplicationError as exc:
            raise ValidationError({"is_global": exc.message} if is_global else exc.message) from exc
        if not is_global and services.message_audience_reaches_nobody(**audience):
            raise ValidationError(services.NO_ACTIVE_RECIPIENTS)
        return data


class MessageStateFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("published", _("已发布")),
            ("scheduled", _("定时发布")),
            ("expired", _("已过期")),
            ("withdrawn", _("已撤回")),
        )

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "published":
            return queryset.filter(selectors.visible_q(now=now))
        if self.value() == "scheduled":
            return queryset.filter(is_active=True, published_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "withdrawn":
            return queryset.filter(is_active=False)
        return queryset


def _state_label(message: Message) -> str:
    if not message.is_active:
        return "已撤回"
    if message.is_expired:
        return "已过期"
    if not message.is_published:
        return "定时发布"
    return "已发布"


def _rate(read: int, audience: int) -> str:
    """The read rate (``selectors.read_rate``, the one formula) as the admin shows it."""
    return admin_report.percent(selectors.read_rate(read=read, audience=audience))


# --- Message admin -----------------------------------------------------------------------------------


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    form = MessageAdminForm
    list_display = (
        "title",
        "type",
        "priority",
        "category",
        "sender",
        "audience",
        "audience_size",
        "read_count",
        "read_rate",
        "state",
        "published_at",
    )
    list_filter = (
        MessageStateFilter,
        "type",
        "priority",
        "category",
        "is_global",
        "is_active",
        "published_at",
    )
    list_select_related = ("sender", "category")
    search_fields = ("title", "content", "sender__username", "sender__last_name", "sender__first_name")
    search_help_text = _("按标题、内容或发送者查找")
    date_hierarchy = "published_at"
    autocomplete_fields = ("audience_departments", "audience_classes", "audience_groups")
    actions = ("withdraw", "republish", "copy_as_new", "delete_selected")
    inlines = (admin_content.MessageAttachmentInline,)
    ordering = ("-published_at", "-id")
    list_per_page = 50

    # -- permissions: senders change their own messages; message-center administrators see all --

    def has_module_permission(self, request):
        return selectors.user_can_send(user=request.user)

    def has_view_permission(self, request, obj=None):
        if not selectors.user_can_send(user=request.user):
            return False
        return (
            obj is None
            or obj.sender_id == request.user.pk
            or selectors.message_center_admin(user=request.user)
        )

    def has_add_permission(self, request):
        return selectors.user_can_send(user=request.user)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def _may_manage(self, request, obj):
        if not selectors.user_can_send(user=request.user):
            return False
        return obj is None or obj.sender_id == request.user.pk

    def get_queryset(self, request):
        queryset = selectors.with_read_total(super().get_queryset(request).defer("content"))
        if not selectors.message_center_admin(user=request.user):
            queryset = queryset.filter(sender=request.user)
        return queryset

    # -- form --

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, request=request, **kw)

        return RequestForm

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": ("title", "content", ("type", "priority"), "category", "files")}),
                (
                    _("接收范围"),
                    {
                        "fields": (
                            "is_global",
                            "recipients",
                            "audience_departments",
                            "audience_classes",
                            "audience_groups",
                            "kinds",
                        ),
                        "description": _(
                            "可任意组合；发送时解析一次，只发给已启用的账号。全局消息发给所有用户。"
                        ),
                    },
                ),
                (_("发布"), {"fields": ("published_at", "expires_at", "remind_unread_after_hours")}),
            )
        fieldsets = [
            (None, {"fields": ("title", "content", ("type", "priority"), "category", "files")}),
            (_("发布"), {"fields": ("published_at", "expires_at", "remind_unread_after_hours", "is_active")}),
            (
                _("接收与阅读"),
                {
                    "fields": (
                        "sender",
                        "audience",
                        "audience_size",
                        "read_summary",
                        "recipients_link",
                        "delivery_link",
                    )
                },
            ),
        ]
        if not obj.is_global:
            fieldsets[2][1]["fields"] = (*fieldsets[2][1]["fields"], "add_recipients")
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("sender", "audience", "audience_size", "read_summary", "recipients_link", "delivery_link")

    def get_changeform_initial_data(self, request):
        """``?copy_from=<id>``: start a new message from one the user may manage ("copy as new")."""
        initial = super().get_changeform_initial_data(request)
        initial.update(admin_content.template_initial(request, request.user))  # ?template=<id>
        source_id = request.GET.get("copy_from")
        if source_id and source_id.isdigit():
            source = self.get_queryset(request).filter(pk=int(source_id)).first()
            if source is not None:
                initial.update(
                    title=source.title,
                    content=source.content,
                    type=source.type,
                    priority=source.priority,
                    is_global=source.is_global,
                    recipients=source.audience_user_ids,
                    audience_departments=list(source.audience_departments.values_list("pk", flat=True)),
                    audience_classes=list(source.audience_classes.values_list("pk", flat=True)),
                    audience_groups=list(source.audience_groups.values_list("pk", flat=True)),
                    kinds=source.audience_kinds,
                )
        return initial

    def save_form(self, request, form, change):
        """Send (add) or update (change) through the services; the admin saves nothing itself."""
        data = form.cleaned_data
        try:
            if not change:
                return compose.message_compose(
                    uploads=data.get("files") or (),
                    sender=request.user,
                    title=data["title"],
                    content=data.get("content", ""),
                    type=data["type"],
                    priority=data["priority"],
                    recipient_ids=[u.pk for u in data.get("recipients") or ()],
                    department_ids=[d.pk for d in data.get("audience_departments") or ()],
                    class_ids=[c.pk for c in data.get("audience_classes") or ()],
                    group_ids=[g.pk for g in data.get("audience_groups") or ()],
                    kinds=data.get("kinds") or (),
                    is_global=data.get("is_global", False),
                    published_at=data.get("published_at"),
                    expires_at=data.get("expires_at"),
                    category_id=data["category"].pk if data.get("category") else None,
                    remind_unread_after_hours=data.get("remind_unread_after_hours"),
                )
            message = Message.objects.get(pk=form.instance.pk)
            changes = {f: data[f] for f in services.UPDATABLE_FIELDS if f in data}
            if "category" in data:
                changes["category_id"] = data["category"].pk if data["category"] else None
            message = services.message_update(message=message, data=changes)
            if data.get("add_recipients"):
                services.message_add_recipients(
                    message=message, recipient_ids=[u.pk for u in data["add_recipients"]], by=request.user
                )
            if data.get("files"):
                attachments.attachments_add(message=message, uploads=data["files"], user=request.user)
            return message
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) if exc.status == 403 else ValidationError(exc.message)

    def save_model(self, request, obj, form, change):
        """Already saved by ``save_form``."""

    def save_related(self, request, form, formsets, change):
        """Audiences are written by ``message_send``; attachments ticked for removal go through the
        service (``admin_content``)."""
        admin_content.save_attachment_deletions(request, formsets)

    def delete_model(self, request, obj):
        services.message_delete(message=obj)

    def delete_queryset(self, request, queryset):
        for message in self._own(request, queryset, "删除"):
            services.message_delete(message=message)

    def _own(self, request, queryset, verb: str):
        """The sender's own messages of a selection (only the sender changes a message); the others
        are reported and left alone."""
        own = [m for m in queryset if m.sender_id == request.user.pk]
        skipped = len(queryset) - len(own)
        if skipped:
            self.message_user(
                request,
                f"有 {skipped} 条不是您发送的消息未{verb}：只有发送者可以{verb}消息。",
                messages.WARNING,
            )
        return own

    # -- columns --

    @admin.display(description=_("受众"))
    def audience(self, obj):
        if obj.is_global:
            return "全体用户"
        return "定向"

    @admin.display(description=_("已读"), ordering="read_total")
    def read_count(self, obj):
        return getattr(obj, "read_total", 0)

    @admin.display(description=_("阅读率"))
    def read_rate(self, obj):
        return _rate(getattr(obj, "read_total", 0), obj.audience_size)

    @admin.display(description=_("状态"))
    def state(self, obj):
        return _state_label(obj)

    @admin.display(description=_("阅读情况"))
    def read_summary(self, obj):
        figures = selectors.message_read_figures(message=obj)
        denominator = "发布时的启用用户数" if obj.is_global else "接收者人数"
        return f"已读 {figures.read} / {figures.audience}（{_rate(figures.read, figures.audience)}，分母为{denominator}）"

    @admin.display(description=_("接收者"))
    def recipients_link(self, obj):
        url = reverse("admin:messaging_message_recipients", args=[obj.pk])
        return format_html('<a href="{}">查看接收者及阅读、归档状态</a>', url)

    @admin.display(description=_("投递"))
    def delivery_link(self, obj):
        url = reverse("admin:messaging_message_delivery", args=[obj.pk])
        return format_html('<a href="{}">投递报告：各渠道送达、失败原因、未送达名单</a>', url)

    # -- actions --

    @admin.action(description=_("撤回所选消息"))
    def withdraw(self, request, queryset):
        own = self._own(request, queryset, "撤回")
        for message in own:
            services.message_withdraw(message=message)
        if own:
            self.message_user(request, f"已撤回 {len(own)} 条消息。", messages.SUCCESS)

    @admin.action(description=_("重新发布所选消息（现在）"))
    def republish(self, request, queryset):
        done = 0
        for message in self._own(request, queryset, "重新发布"):
            try:
                services.message_republish(message=message)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"“{message.title}”：{exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"已重新发布 {done} 条消息。", messages.SUCCESS)

    @admin.action(description=_("复制为新消息"))
    def copy_as_new(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "请只选择一条消息进行复制。", messages.WARNING)
            return None
        url = reverse("admin:messaging_message_add")
        return HttpResponseRedirect(f"{url}?{urlencode({'copy_from': queryset.get().pk})}")

    # -- extra pages --

    def get_urls(self):
        return [
            path(
                "<int:message_id>/recipients/",
                self.admin_site.admin_view(self.recipients_view),
                name="messaging_message_recipients",
            ),
            path(
                "<int:message_id>/delivery/",
                self.admin_site.admin_view(self.delivery_view),
                name="messaging_message_delivery",
            ),
            path("report/", self.admin_site.admin_view(self.report_view), name="messaging_message_report"),
            *super().get_urls(),
        ]

    def delivery_view(self, request, message_id: int):
        return admin_delivery.delivery_view(self, request, message_id)

    def recipients_view(self, request, message_id: int):
        """Who received a message and what they did with it; filter by state to see who has not read."""
        message = get_object_or_404(self.get_queryset(request), pk=message_id)
        state = request.GET.get("state", "")
        search = request.GET.get("q", "").strip()
        rows = selectors.message_audience_list(message=message, state=state, search=search)
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"接收者：{message.title}",
            "message_obj": message,
            "page": page,
            "state": state,
            "q": search,
            "states": (("", "全部"), ("unread", "未读"), ("read", "已读"), ("archived", "已归档")),
            "figures": selectors.message_read_figures(message=message),
        }
        return TemplateResponse(request, "admin/messaging/message/recipients.html", context)

    def report_view(self, request):
        """The statistics report (per message and per period), with charts and an Excel export."""
        if not selectors.user_can_send(user=request.user):
            raise PermissionDenied
        form = admin_report.ReportForm(request.GET or None)
        params = form.cleaned_params() if form.is_valid() else admin_report.ReportForm.default_params()
        report = selectors.message_report(user=request.user, **params)
        if request.GET.get("export") == "xlsx":
            return exports.message_report_xlsx_response(report)
        context = {
            **self.admin_site.each_context(request),
            **admin_report.report_context(report),
            "opts": self.model._meta,
            "title": "消息统计报表",
            "form": form,
            "export_query": urlencode(
                {**{k: v for k, v in request.GET.items() if k != "export"}, "export": "xlsx"}
            ),
        }
        return TemplateResponse(request, "admin/messaging/message/report.html", context)


@admin.register(MessageDelivery)
class MessageDeliveryAdmin(OutboxAdminMixin, admin.ModelAdmin):
    """Delivery over outside channels (WeChat): status, reason and the channel's error code."""

    list_display = ("message", "recipient", "channel", "kind", *OUTBOX_LIST_DISPLAY)
    list_filter = ("channel", "kind", *OutboxAdminMixin.list_filter)
    list_select_related = ("message", "recipient")
    search_fields = ("message__title", "recipient__username")
    readonly_fields = ("message", "recipient", "channel", "kind", *OUTBOX_FIELDS)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.is_superuser:
            queryset = queryset.filter(message__sender=request.user)
        return queryset

    def has_module_permission(self, request):
        return selectors.user_can_send(user=request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.user_can_send(user=request.user)


# --- Categories and preferences (issue 20) ----------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """消息分类：排序、图标和颜色；停用的分类不能再选，已有消息保留。"""

    list_display = ("name", "position", "icon", "colour", "is_active")
    list_editable = ("position", "icon", "colour", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    ordering = ("position", "id")


@admin.register(DeliveryPreference)
class DeliveryPreferenceAdmin(admin.ModelAdmin):
    """Each user's push preferences, read-only for staff (users change them themselves)."""

    list_display = (
        "user",
        "preferred_channel",
        "quiet_hours_start",
        "quiet_hours_end",
        "digest_enabled",
        "digest_time",
    )
    list_filter = ("preferred_channel", "digest_enabled")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name", "user__first_name")
    raw_id_fields = ("user",)
    filter_horizontal = ("muted_categories",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PushDelivery)
class PushDeliveryAdmin(OutboxAdminMixin, admin.ModelAdmin):
    """Pushes that are not messages (new conversation messages, comment notices …)."""

    list_display = ("title", "recipient", "channel", *OUTBOX_LIST_DISPLAY)
    list_filter = ("channel", *OutboxAdminMixin.list_filter)
    list_select_related = ("recipient",)
    search_fields = ("title", "recipient__username")
    readonly_fields = ("recipient", "channel", "title", "body", "url", *OUTBOX_FIELDS)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(OutboxAdminMixin, admin.ModelAdmin):
    """Every subscriber's daily digest, one a day, with its delivery state."""

    list_display = ("date", "user", "channel", *OUTBOX_LIST_DISPLAY)
    list_filter = ("date", "channel", *OutboxAdminMixin.list_filter)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name", "user__first_name")
    readonly_fields = ("user", "date", "channel", *OUTBOX_FIELDS)


@admin.register(DigestItem)
class DigestItemAdmin(admin.ModelAdmin):
    """每日播报的推荐内容：为某一天选一篇文章、一首歌或一则通知，随当天的每日播报发给订阅者。"""

    list_display = ("date", "kind", "title", "link")
    list_filter = ("kind",)
    search_fields = ("title", "body")
    date_hierarchy = "date"
    ordering = ("-date",)


admin.site.register(MessageTemplate, admin_content.MessageTemplateAdmin)
