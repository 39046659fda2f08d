"""Template helpers of the portal: icons, the unread badge, links that keep the query."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from portal.views.base import page_url

register = template.Library()

# Simple line icons drawn for the portal (24 × 24, currentColor), inline: no request, no font.
ICONS = {
    "home": '<path d="M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z"/>',
    "bell": '<path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0"/>',
    "chat": '<path d="M4 5h16v11H9l-5 4z"/>',
    "people": '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c.8-3.8 3.4-6 6.5-6s5.7 2.2 6.5 6"/>'
    '<circle cx="17" cy="9" r="2.5"/><path d="M16 14c2.6 0 4.6 1.8 5.3 5"/>',
    "grid": '<rect x="3.5" y="3.5" width="7" height="7" rx="1"/><rect x="13.5" y="3.5" width="7" height="7" rx="1"/>'
    '<rect x="3.5" y="13.5" width="7" height="7" rx="1"/><rect x="13.5" y="13.5" width="7" height="7" rx="1"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c1-4.5 4.2-7 8-7s7 2.5 8 7"/>',
    "room": '<rect x="3" y="6" width="18" height="9" rx="1"/><path d="M7 15v5M17 15v5M3 10h18"/>',
    "flag": '<path d="M5 21V4M5 4h11l-2 4 2 4H5"/>',
    "wrench": '<path d="M14.5 4.5a4.5 4.5 0 0 0-5.6 5.6L3.5 15.5l5 5 5.4-5.4a4.5 4.5 0 0 0 5.6-5.6l-3 3-3-1-1-3z"/>',
    "book": '<path d="M4 5a2 2 0 0 1 2-2h13v16H6a2 2 0 0 0-2 2zM4 19V5M8 7h7"/>',
    "qr": '<rect x="3" y="3" width="7" height="7"/><rect x="14" y="3" width="7" height="7"/>'
    '<rect x="3" y="14" width="7" height="7"/><path d="M14 14h3v3h-3zM18 18h3v3h-3zM14 20h2M20 14v2"/>',
    "send": '<path d="M3 11l18-8-8 18-2-8z"/>',
}


@register.simple_tag
def icon(name: str) -> str:
    return format_html(
        '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" '
        'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">{}</svg>',
        mark_safe(ICONS[name]),  # noqa: S308 - our own constant markup
    )


@register.simple_tag(takes_context=True)
def unread_badge(context) -> str:
    """The number of unread messages as a badge (one indexed query; nothing when none)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if "unread_count" in context:
        count = context["unread_count"]
    else:
        from messaging.selectors import message_unread_count

        count = message_unread_count(user=user)
    if not count:
        return ""
    shown = "99+" if count > 99 else str(count)
    return format_html('<span class="badge">{}<span class="sr-only">条未读</span></span>', shown)


@register.simple_tag(takes_context=True)
def conversation_badge(context) -> str:
    """My unread conversation messages as a badge (one indexed query: the sum of my counters)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if "unread_total" in context:
        count = context["unread_total"]
    else:
        from conversations.selectors import unread_total

        count = unread_total(user=user)
    if not count:
        return ""
    shown = "99+" if count > 99 else str(count)
    return format_html('<span class="badge">{}<span class="sr-only">条未读会话消息</span></span>', shown)


@register.simple_tag(takes_context=True)
def page_link(context, number) -> str:
    return page_url(context["request"], page=number)


@register.simple_tag(takes_context=True)
def query_link(context, **changes) -> str:
    return page_url(context["request"], **changes)


@register.filter
def local_dt(value, fmt: str = "%m月%d日 %H:%M") -> str:
    """A datetime in Beijing time, written the Chinese way."""
    if not value:
        return ""
    return timezone.localtime(value).strftime(fmt)


@register.filter
def filesize(value) -> str:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:g} {unit}" if unit == "B" else f"{size:.1f} {unit}".replace(".0 ", " ")
        size /= 1024
    return f"{size:.1f} GB"


WEEKDAY_NAMES = "一二三四五六日"


@register.filter
def weekday_names(days) -> str:
    """ISO weekdays (1 = Monday) as 周一、周三."""
    return "、".join(f"周{WEEKDAY_NAMES[day - 1]}" for day in days if 1 <= day <= 7)
