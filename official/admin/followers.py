"""Followers, their positions (only with ``official.view_followerlocation``) and what WeChat
delivered."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import selectors, services
from ..models import Follower, FollowerLocation, InboundMessage


class BoundFilter(admin.SimpleListFilter):
    title = _("是否绑定")
    parameter_name = "bound"

    def lookups(self, request, model_admin):
        return (("yes", _("已绑定")), ("no", _("未绑定")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(user__isnull=False)
        if self.value() == "no":
            return queryset.filter(user__isnull=True)
        return queryset


def window_label(follower: Follower) -> str:
    window = selectors.follower_window(follower=follower)
    if not window.is_open:
        return "已关闭"
    hours, rest = divmod(int(window.remaining().total_seconds()), 3600)
    return f"剩余 {hours} 小时 {rest // 60} 分"


@admin.register(Follower)
class FollowerAdmin(admin.ModelAdmin):
    list_display = (
        "openid",
        "user",
        "subscribed",
        "subscribed_at",
        "last_message_at",
        "window",
        "scene_class",
    )
    list_filter = ("subscribed", BoundFilter)
    list_select_related = ("user", "scene_class")
    search_fields = ("=openid", "=unionid", "user__username", "user__last_name", "user__first_name")
    search_help_text = _("按 openid、unionid、工号/学号或姓名查找")
    fields = (
        "openid",
        "unionid",
        "user",
        "bound_at",
        "subscribed",
        "subscribed_at",
        "unsubscribed_at",
        "scene",
        "scene_class",
        "last_message_at",
        "last_event_at",
        "window",
        "mass_month",
        "mass_count",
    )
    readonly_fields = fields
    actions = ("unbind",)
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # followers come from WeChat

    @admin.display(description=_("48小时客服窗口"))
    def window(self, obj):
        return window_label(obj)

    @admin.action(description=_("解除所选粉丝与账号的绑定"), permissions=("change",))
    def unbind(self, request, queryset):
        count = 0
        for follower in queryset.filter(user__isnull=False):
            services.follower_unbind(follower=follower)
            count += 1
        self.message_user(request, f"已解除 {count} 位粉丝的绑定。")


@admin.register(FollowerLocation)
class FollowerLocationAdmin(admin.ModelAdmin):
    """Positions: visible only to staff granted 可以查看粉丝地理位置 (``view_followerlocation``);
    deleted after WECHAT_OFFICIAL_LOCATION_RETENTION_DAYS by the daily purge."""

    list_display = ("follower", "user", "latitude", "longitude", "precision", "label", "reported_at", "map")
    list_select_related = ("follower__user",)
    search_fields = ("=follower__openid", "follower__user__username", "follower__user__last_name")
    readonly_fields = ("follower", "latitude", "longitude", "precision", "label", "reported_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("绑定用户"))
    def user(self, obj):
        return obj.follower.user or "-"

    @admin.display(description=_("地图"))
    def map(self, obj):
        return format_html(
            '<a href="https://uri.amap.com/marker?position={},{}" target="_blank" rel="noopener">查看</a>',
            obj.longitude,
            obj.latitude,
        )


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Every message and event WeChat delivered (once each), with the handling and the reply."""

    list_display = ("received_at", "follower", "kind", "event", "short_content", "handling")
    list_filter = ("kind", "handling", "event")
    list_select_related = ("follower",)
    search_fields = ("=follower__openid", "content", "=msg_id")
    readonly_fields = (
        "dedup_key",
        "follower",
        "msg_id",
        "kind",
        "event",
        "event_key",
        "content",
        "media_id",
        "url",
        "sent_at",
        "received_at",
        "handling",
        "reply",
        "followup",
        "followup_done_at",
    )
    fields = readonly_fields
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).defer("reply")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("内容"))
    def short_content(self, obj):
        text = obj.content or obj.event_key
        return text if len(text) <= 40 else text[:40] + "…"


def localtime_label(value) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "-"
