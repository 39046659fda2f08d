"""Comments, private questions and polls in the admin (issue 20 items 3 and 5).

Thin: the services decide (``messaging.comments``, ``messaging.polls``); the admin adapts forms and
reports their refusals.

* ``PollComposeForm``: the poll fields of the compose form (``MessageAdminForm`` inherits them);
* ``poll_summary``: a message's poll on its change page, read-only, with results and the export;
* ``MessageCommentAdmin``: comments of the messages I moderate (all for message-center staff),
  filtered by message, private or hidden, hidden and shown again through the service;
* ``PollAdmin``: the polls of my messages, and the export of who voted what.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from wechathhu.core.errors import ApplicationError

from . import comments, poll_export, polls, selectors
from .models import MessageComment, Poll
from .poll_forms import PollComposeForm  # noqa: F401 - the compose form's poll fields

# --- A message's poll ------------------------------------------------------------------------------


def poll_summary(message) -> str:
    """A message's poll as its change page shows it (read-only): settings, results, the export.

    A read-only field rather than an inline formset, so that saving the message never needs the
    poll's formset (a poll is composed with its message and not edited afterwards)."""
    poll = polls.poll_of(message)
    if poll is None:
        return "（没有投票）"
    data = polls.poll_results(poll)
    parts = [f"多选（最多 {poll.max_choices} 项）" if poll.multiple else "单选"]
    parts.append("匿名" if poll.anonymous else "实名")
    parts.append("允许改票" if poll.allow_change else "不允许改票")
    parts.append(f"截止 {timezone.localtime(poll.closes_at):%Y-%m-%d %H:%M}" if poll.closes_at else "不截止")
    if poll.is_closed:
        parts.append("已截止")
    rows = format_html_join(
        "",
        "<li>{}：{} 票（{}%）</li>",
        ((o["text"], o["vote_count"], o["percentage"]) for o in data["options"]),
    )
    url = reverse("admin:messaging_poll_export", args=[poll.pk])
    label = "导出投票结果（Excel）" if poll.anonymous else "导出投票结果和明细（Excel）"
    return format_html(
        '<p><strong>{}</strong>（{}）</p><p>共 {} 人投票</p><ul>{}</ul><p><a href="{}">{}</a></p>',
        poll.question,
        "，".join(parts),
        poll.voter_count,
        rows,
        url,
        label,
    )


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    """The polls of my messages (all for message-center staff), read-only, with the export."""

    list_display = ("question", "message", "multiple", "anonymous", "voter_count", "closes_at", "export_link")
    list_filter = ("multiple", "anonymous")
    list_select_related = ("message",)
    search_fields = ("question", "message__title")
    raw_id_fields = ("message",)
    readonly_fields = (
        "message",
        "question",
        "multiple",
        "max_choices",
        "anonymous",
        "allow_change",
        "closes_at",
        "voter_count",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(message__in=selectors.messages_of_sender(user=request.user).values("pk"))

    def has_module_permission(self, request):
        return selectors.user_can_send(user=request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.user_can_send(user=request.user)

    def has_add_permission(self, request):
        return False  # a poll is created with its message (compose)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("导出"))
    def export_link(self, poll):
        return format_html('<a href="{}">Excel</a>', reverse("admin:messaging_poll_export", args=[poll.pk]))

    def get_urls(self):
        return [
            path(
                "<int:poll_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="messaging_poll_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request, poll_id: int):
        """Results, and who voted what unless the poll is anonymous, as an Excel workbook."""
        if not selectors.user_can_send(user=request.user):
            raise PermissionDenied
        poll = get_object_or_404(self.get_queryset(request), pk=poll_id)
        return poll_export.poll_xlsx_response(poll)


# --- Comments ----------------------------------------------------------------------------------------


class AwaitingFilter(admin.SimpleListFilter):
    title = _("待回答")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return (("yes", _("待回答的私信提问")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.question_awaiting_q())
        return queryset


class HiddenFilter(admin.SimpleListFilter):
    title = _("隐藏")
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return (("yes", _("已隐藏")), ("no", _("未隐藏")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(hidden_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(hidden_at__isnull=True)
        return queryset


@admin.register(MessageComment)
class MessageCommentAdmin(admin.ModelAdmin):
    """Comments and private questions of the messages I sent (all for message-center staff): read,
    hide and show again (through ``messaging.comments``; hidden ones stay for audit)."""

    list_display = (
        "short_body",
        "message",
        "author",
        "is_private",
        "reply_to",
        "is_answered",
        "hidden",
        "created_at",
    )
    list_filter = ("is_private", AwaitingFilter, HiddenFilter, "created_at")
    list_select_related = ("message", "author", "reply_to")
    search_fields = ("body", "message__title", "author__username", "author__last_name", "author__first_name")
    search_help_text = _("按内容、消息标题或作者查找；按消息筛选：?message__id__exact=<消息ID>")
    raw_id_fields = ("message", "author", "reply_to", "private_to", "hidden_by")
    actions = ("hide", "unhide")
    readonly_fields = (
        "message",
        "author",
        "body",
        "is_private",
        "private_to",
        "reply_to",
        "answered_at",
        "hidden_at",
        "hidden_by",
        "created_at",
    )
    fields = readonly_fields
    list_per_page = 50

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(message__in=selectors.messages_of_sender(user=request.user).values("pk"))

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in ("message__id__exact", "message__id") or super().lookup_allowed(
            lookup, value, request
        )

    def has_module_permission(self, request):
        return selectors.user_can_send(user=request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.user_can_send(user=request.user)

    def has_add_permission(self, request):
        return False  # comments are written by their authors

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # hide instead: kept for audit

    @admin.display(description=_("内容"))
    def short_body(self, obj):
        return obj.body[:40]

    @admin.display(description=_("已回答"), boolean=True)
    def is_answered(self, obj):
        return obj.answered_at is not None if obj.is_private and obj.reply_to_id is None else None

    @admin.display(description=_("已隐藏"), boolean=True)
    def hidden(self, obj):
        return obj.hidden_at is not None

    def _moderate(self, request, queryset, hidden: bool):
        try:
            done = comments.comment_set_hidden_bulk(
                comments=queryset.select_related("message"), hidden=hidden, by=request.user
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        verb = "隐藏" if hidden else "取消隐藏"
        self.message_user(request, f"已{verb} {done} 条评论。", messages.SUCCESS)

    @admin.action(description=_("隐藏所选评论"))
    def hide(self, request, queryset):
        self._moderate(request, queryset, True)

    @admin.action(description=_("取消隐藏所选评论"))
    def unhide(self, request, queryset):
        self._moderate(request, queryset, False)
