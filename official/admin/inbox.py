"""The customer-service inbox: follower threads (open / closed, assignee, unread), each opened as
a conversation page with the 48-hour window shown and staff replies of every type (or a
template message outside the window). Replies go through ``official.services.inbox_*``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wechathhu.core.admin import OUTBOX_FIELDS, OUTBOX_LIST_DISPLAY, OutboxAdminMixin
from wechathhu.core.errors import ApplicationError

from .. import selectors, services
from ..models import InboxThread, MassSendDelivery, ServiceKind, ServiceMessage, ThreadStatus
from ..services import inbox
from .followers import window_label

REPLY_KINDS = [(k.value, k.label) for k in ServiceKind if k != ServiceKind.TEMPLATE]


class ReplyForm(forms.Form):
    """A staff reply; which fields each type needs is the service's rule (``inbox.REQUIRED``)."""

    kind = forms.ChoiceField(label=_("类型"), choices=REPLY_KINDS, initial=ServiceKind.TEXT)
    content = forms.CharField(
        label=_("文本"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    media_id = forms.CharField(
        label=_("素材 media_id"),
        required=False,
        max_length=128,
        help_text=_("图片、语音、视频：公众平台素材的 media_id"),
    )
    title = forms.CharField(label=_("标题"), required=False, max_length=64)
    description = forms.CharField(label=_("描述"), required=False, max_length=255)
    url = forms.URLField(
        label=_("链接"),
        required=False,
        max_length=1000,
        assume_scheme="https",
        help_text=_("图文的跳转链接；音乐的播放地址"),
    )
    hq_url = forms.URLField(label=_("高品质音乐链接"), required=False, max_length=1000, assume_scheme="https")
    thumb_media_id = forms.CharField(label=_("缩略图 media_id"), required=False, max_length=128)
    image = forms.URLField(
        label=_("图文封面图片链接"), required=False, max_length=1000, assume_scheme="https"
    )

    def payload(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "kind" and value}


class TemplateReplyForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=64)
    content = forms.CharField(label=_("内容"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    url = forms.URLField(label=_("详情链接"), required=False, max_length=1000, assume_scheme="https")


class MineFilter(admin.SimpleListFilter):
    title = _("负责人")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return (("me", _("我负责的")), ("none", _("未指派")))

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset


class UnreadFilter(admin.SimpleListFilter):
    title = _("未读")
    parameter_name = "unread"

    def lookups(self, request, model_admin):
        return (("yes", _("有未读")),)

    def queryset(self, request, queryset):
        return queryset.filter(unread__gt=0) if self.value() == "yes" else queryset


@admin.register(InboxThread)
class InboxThreadAdmin(admin.ModelAdmin):
    list_display = (
        "who",
        "status",
        "assignee",
        "unread_badge",
        "last_incoming_at",
        "window",
        "last_reply_at",
    )
    list_filter = ("status", MineFilter, UnreadFilter)
    list_select_related = ("follower__user", "assignee")
    search_fields = (
        "=follower__openid",
        "follower__user__username",
        "follower__user__last_name",
        "follower__user__first_name",
    )
    actions = ("assign_to_me", "close", "reopen")
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # threads open when a follower writes

    def get_queryset(self, request):
        return selectors.thread_list()

    @admin.display(description=_("粉丝"), ordering="follower__user__username")
    def who(self, obj):
        user = obj.follower.user
        return f"{user.full_name}（{user.username}）" if user else obj.follower.openid

    @admin.display(description=_("未读"), ordering="unread")
    def unread_badge(self, obj):
        if not obj.unread:
            return "0"
        return format_html('<strong style="color:#ba2121">{}</strong>', obj.unread)

    @admin.display(description=_("48小时窗口"))
    def window(self, obj):
        return window_label(obj.follower)

    @admin.action(description=_("指派给我"), permissions=("change",))
    def assign_to_me(self, request, queryset):
        count = inbox.thread_assign(thread_ids=queryset.values_list("pk", flat=True), assignee=request.user)
        self.message_user(request, f"已将 {count} 个会话指派给您。")

    @admin.action(description=_("关闭会话"), permissions=("change",))
    def close(self, request, queryset):
        count = inbox.thread_set_status(
            thread_ids=queryset.values_list("pk", flat=True), status=ThreadStatus.CLOSED
        )
        self.message_user(request, f"已关闭 {count} 个会话。")

    @admin.action(description=_("重新打开"), permissions=("change",))
    def reopen(self, request, queryset):
        count = inbox.thread_set_status(
            thread_ids=queryset.values_list("pk", flat=True), status=ThreadStatus.OPEN
        )
        self.message_user(request, f"已重新打开 {count} 个会话。")

    # --- the conversation page ---------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/change/",
                self.admin_site.admin_view(self.conversation_view),
                name="official_inboxthread_change",
            ),
            *super().get_urls(),
        ]

    def conversation_view(self, request, object_id):
        thread = get_object_or_404(selectors.thread_list(), pk=object_id)
        if not self.has_view_permission(request, thread):
            raise PermissionDenied
        can_reply = self.has_change_permission(request, thread)
        reply_form, template_form = ReplyForm(prefix="reply"), TemplateReplyForm(prefix="tpl")
        if request.method == "POST":
            if not can_reply:
                raise PermissionDenied
            done = self._post(request, thread)
            if done is True:
                return HttpResponseRedirect(request.path)
            reply_form, template_form = done
        inbox.thread_mark_read(thread=thread)
        window = selectors.follower_window(follower=thread.follower)
        context = {
            **self.admin_site.each_context(request),
            "title": f"客服会话：{self.who(thread)}",
            "opts": self.model._meta,
            "original": thread,
            "thread": thread,
            "rows": selectors.thread_conversation(thread=thread),
            "window": window,
            "window_label": window_label(thread.follower),
            "reply_form": reply_form,
            "template_form": template_form,
            "template_configured": bool(inbox.template_configured()),
            "can_reply": can_reply,
            "changelist_url": reverse("admin:official_inboxthread_changelist"),
        }
        return TemplateResponse(request, "admin/official/inboxthread/conversation.html", context)

    def _post(self, request, thread):
        """``True`` when done (redirect), else the forms to show again with their errors."""
        op = request.POST.get("op")
        reply_form = ReplyForm(request.POST if op == "reply" else None, prefix="reply")
        template_form = TemplateReplyForm(request.POST if op == "template" else None, prefix="tpl")
        try:
            if op == "reply" and reply_form.is_valid():
                services.inbox_reply(
                    thread=thread,
                    kind=reply_form.cleaned_data["kind"],
                    payload=reply_form.payload(),
                    by=request.user,
                )
                self.message_user(request, "回复已排队发送，结果见下方。")
                return True
            if op == "template" and template_form.is_valid():
                services.inbox_reply_template(thread=thread, by=request.user, **template_form.cleaned_data)
                self.message_user(request, "模板消息已排队发送。")
                return True
            if op in ("close", "open"):
                status = ThreadStatus.CLOSED if op == "close" else ThreadStatus.OPEN
                inbox.thread_set_status(thread_ids=[thread.pk], status=status)
                return True
            if op == "assign_me":
                inbox.thread_assign(thread_ids=[thread.pk], assignee=request.user)
                return True
        except ApplicationError as exc:
            form = reply_form if op == "reply" else template_form
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                self.message_user(request, exc.message, messages.ERROR)
        return reply_form, template_form


@admin.register(ServiceMessage)
class ServiceMessageAdmin(OutboxAdminMixin, admin.ModelAdmin):
    """Every customer-service and template message sent to followers, with its delivery state."""

    list_display = ("created_at", "follower", "kind", "short", "sent_by", *OUTBOX_LIST_DISPLAY)
    list_filter = ("status", "reason", "kind")
    list_select_related = ("follower", "sent_by")
    search_fields = ("=follower__openid", "follower__user__username")
    fields = ("follower", "kind", "payload", "sent_by", "in_reply_to", "msgid", *OUTBOX_FIELDS)
    readonly_fields = fields

    @admin.display(description=_("内容"))
    def short(self, obj):
        text = obj.summary
        return text if len(text) <= 40 else text[:40] + "…"


@admin.register(MassSendDelivery)
class MassSendDeliveryAdmin(OutboxAdminMixin, admin.ModelAdmin):
    list_display = ("mass_send", *OUTBOX_LIST_DISPLAY)
    list_select_related = ("mass_send",)
    fields = ("mass_send", *OUTBOX_FIELDS)
    readonly_fields = fields
