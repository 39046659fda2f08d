"""The robot's keyword rules, #topics# and their posts."""

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from wechathhu.core.errors import ApplicationError

from .. import services
from ..models import KeywordRule, Topic, TopicPost
from ..services import topics


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "match", "pattern", "priority", "hours", "reply_kind", "is_active")
    list_editable = ("priority", "is_active")
    list_filter = ("is_active", "match", "reply_kind")
    search_fields = ("name", "pattern", "text", "title")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "match",
                    "pattern",
                    "priority",
                    "is_active",
                    ("active_from", "active_until"),
                )
            },
        ),
        (
            _("回复"),
            {
                "fields": ("reply_kind", "text", "title", "description", "url", "pic_url", "media_id"),
                "description": _(
                    "文本：填回复文本；图文：标题、链接（可加摘要、封面）；链接：标题、链接；图片：素材 media_id。"
                    "内置指令（帮助、未读、今日、通讯录、指南、报修）和 #话题# 优先于这些规则。"
                ),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        services.keyword_rule_save(rule=obj)

    def delete_model(self, request, obj):
        services.keyword_rules_delete(rules=[obj])

    def delete_queryset(self, request, queryset):
        services.keyword_rules_delete(rules=list(queryset))

    @admin.display(description=_("生效时段"))
    def hours(self, obj):
        if obj.active_from is None:
            return "全天"
        return f"{obj.active_from:%H:%M}–{obj.active_until:%H:%M}"


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "post_count", "last_post_at", "is_hidden", "posts_link")
    list_filter = ("is_hidden",)
    search_fields = ("name",)
    readonly_fields = ("name", "post_count", "last_post_at", "created_at")
    fields = ("name", "post_count", "last_post_at", "created_at")
    actions = ("hide", "show")

    def has_add_permission(self, request):
        return False  # a topic begins with its first post

    @admin.display(description=_("帖子"))
    def posts_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:official_topicpost_changelist") + f"?topic__id__exact={obj.pk}"
        return format_html('<a href="{}">查看帖子</a>', url)

    @admin.action(description=_("隐藏所选话题（不再接受发帖、不再显示）"), permissions=("change",))
    def hide(self, request, queryset):
        count = topics.topic_set_hidden(topic_ids=queryset.values_list("pk", flat=True), hidden=True)
        self.message_user(request, f"已隐藏 {count} 个话题。")

    @admin.action(description=_("重新显示所选话题"), permissions=("change",))
    def show(self, request, queryset):
        count = topics.topic_set_hidden(topic_ids=queryset.values_list("pk", flat=True), hidden=False)
        self.message_user(request, f"已重新显示 {count} 个话题。")


class OfficialReplyForm(forms.ModelForm):
    """An official reply in a topic, posted through ``topic_post_create``."""

    class Meta:
        model = TopicPost
        fields = ("topic", "content", "is_pinned")
        help_texts = {"is_pinned": _("置顶的帖子在“#话题#”的回答中排在最前")}

    def clean(self):
        data = super().clean()
        if data.get("topic") and data.get("content"):
            try:
                topics.topic_post_check(name=data["topic"].name, content=data["content"])
            except ApplicationError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(TopicPost)
class TopicPostAdmin(admin.ModelAdmin):
    list_display = ("topic", "short_content", "author", "is_official", "is_pinned", "is_hidden", "created_at")
    list_filter = ("is_hidden", "is_pinned", "is_official", "topic")
    list_select_related = ("topic", "author")
    search_fields = ("content", "topic__name", "author__username", "author__last_name")
    actions = ("hide", "show", "pin", "unpin")
    list_per_page = 50

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = OfficialReplyForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("topic", "content", "is_pinned")
        return (
            "topic",
            "content",
            "author",
            "follower",
            "is_official",
            "is_pinned",
            "is_hidden",
            "created_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "topic",
            "content",
            "author",
            "follower",
            "is_official",
            "is_pinned",
            "is_hidden",
            "created_at",
        )

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        created = topics.topic_post_create(
            name=data["topic"].name,
            content=data["content"],
            author=request.user,
            official=True,
            pinned=data.get("is_pinned", False),
        )
        obj.pk, obj.created_at = created.pk, created.created_at

    @admin.display(description=_("内容"))
    def short_content(self, obj):
        return obj.content if len(obj.content) <= 40 else obj.content[:40] + "…"

    def _ids(self, queryset):
        return list(queryset.values_list("pk", flat=True))

    @admin.action(description=_("隐藏所选帖子"), permissions=("change",))
    def hide(self, request, queryset):
        self.message_user(
            request, f"已隐藏 {topics.topic_post_set_hidden(post_ids=self._ids(queryset), hidden=True)} 条。"
        )

    @admin.action(description=_("取消隐藏"), permissions=("change",))
    def show(self, request, queryset):
        self.message_user(
            request, f"已恢复 {topics.topic_post_set_hidden(post_ids=self._ids(queryset), hidden=False)} 条。"
        )

    @admin.action(description=_("置顶所选帖子"), permissions=("change",))
    def pin(self, request, queryset):
        self.message_user(
            request, f"已置顶 {topics.topic_post_set_pinned(post_ids=self._ids(queryset), pinned=True)} 条。"
        )

    @admin.action(description=_("取消置顶"), permissions=("change",))
    def unpin(self, request, queryset):
        self.message_user(
            request,
            f"已取消置顶 {topics.topic_post_set_pinned(post_ids=self._ids(queryset), pinned=False)} 条。",
        )
