"""Staff's side of conversations: abuse reports (the reported message and its neighbours only;
private conversations are not browsable in the admin) and messaging bans."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from . import selectors, services
from .models import MessageReport, MessagingBan, ReportStatus


@admin.register(MessageReport)
class MessageReportAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "reporter", "reported_sender", "reason", "status")
    list_filter = ("status",)
    list_select_related = ("reporter", "message__sender")
    search_fields = ("reason", "reporter__username", "message__sender__username")
    raw_id_fields = ("reporter", "handled_by")
    readonly_fields = ("reporter", "reason", "created_at", "context", "handled_by")
    fields = ("reporter", "reason", "created_at", "status", "handled_by", "context")
    actions = ("dismiss", "ban_sender")

    def has_add_permission(self, request):
        return False

    @admin.display(description="被举报人")
    def reported_sender(self, report):
        return report.message.sender or "—"

    @admin.display(description="被举报的消息及其前后各 3 条")
    def context(self, report):
        rows = selectors.report_context(report=report)
        return format_html(
            "<ol class='report-context'>{}</ol>",
            format_html_join(
                "",
                "<li{}><b>{}</b> {}：{}</li>",
                (
                    (
                        format_html(" style='{}'", "background:#fff3cd") if m.pk == report.message_id else "",
                        m.created_at.strftime("%Y-%m-%d %H:%M"),
                        m.sender or "—",
                        m.preview(),
                    )
                    for m in rows
                ),
            ),
        )

    @admin.action(description="驳回所选举报")
    def dismiss(self, request, queryset):
        for report in queryset.filter(status=ReportStatus.OPEN):
            services.report_handle(report=report, by=request.user, ban=False)
        self.message_user(request, "已驳回。", messages.SUCCESS)

    @admin.action(description="禁止被举报人发送消息")
    def ban_sender(self, request, queryset):
        for report in queryset.select_related("message__sender"):
            services.report_handle(report=report, by=request.user, ban=True)
        self.message_user(request, "已禁言被举报人。", messages.SUCCESS)


@admin.register(MessagingBan)
class MessagingBanAdmin(admin.ModelAdmin):
    list_display = ("user", "reason", "created_by", "created_at")
    list_select_related = ("user", "created_by")
    search_fields = ("user__username", "user__last_name", "user__first_name", "reason")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_by", "created_at")
    fields = ("user", "reason", "created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        ban = services.messaging_ban(user=obj.user, by=request.user, reason=obj.reason)
        obj.pk = ban.pk
