"""The custom menu (validated as WeChat validates it, published with an action) and the QR codes
staff print for classes."""

import segno
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import SchoolClass
from wechathhu.core.errors import ApplicationError

from .. import services
from ..models import Menu, MenuItem, QrScene
from ..services import menus


class MenuItemFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        items = [
            MenuItem(
                **{
                    name: form.cleaned_data.get(name) or ""
                    for name in ("name", "kind", "key", "url", "appid", "pagepath")
                },
                column=form.cleaned_data.get("column"),
                position=form.cleaned_data.get("position"),
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        menus.menu_validate(items=items)  # the service's rules, as a ValidationError


class MenuItemInline(admin.TabularInline):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    model = MenuItem
    formset = MenuItemFormSet
    fields = ("column", "position", "name", "kind", "key", "url", "appid", "pagepath")
    extra = 3


@admin.register(Menu)
class MenuAdmin(admin.ModelAdmin):
    list_display = ("name", "published_at", "published_by")
    list_select_related = ("published_by",)
    readonly_fields = ("published_at", "published_by")
    inlines = (MenuItemInline,)
    actions = ("publish",)

    @admin.action(description=_("发布到公众号（替换当前菜单）"), permissions=("change",))
    def publish(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个菜单发布。", messages.WARNING)
            return
        try:
            menu = services.menu_publish(menu=queryset.get(), by=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"已发布“{menu.name}”。微信客户端约 5 分钟内更新菜单。")


class QrSceneAddForm(forms.Form):
    school_class = forms.ModelChoiceField(
        label=_("班级"), queryset=SchoolClass.objects.order_by("-grade", "name"), required=False
    )
    scene = forms.CharField(
        label=_("场景值"),
        required=False,
        max_length=64,
        help_text=_("不选班级时填写，如 poster-2026（1–64 个字符）"),
    )

    def clean(self):
        data = super().clean()
        if not data.get("school_class") and not (data.get("scene") or "").strip():
            raise ValidationError(_("请选择班级，或填写场景值。"))
        return data


@admin.register(QrScene)
class QrSceneAdmin(admin.ModelAdmin):
    """Permanent parametric QR codes: one per class (scanning it offers that class's students to
    bind), or for any scene; each can be printed."""

    list_display = ("__str__", "scene", "scans", "created_at", "print_link")
    list_select_related = ("school_class",)
    search_fields = ("scene", "school_class__name")
    autocomplete_fields = ("school_class",)
    actions = ("print_many",)

    fields = ("school_class", "scene", "url", "scans", "created_by")
    readonly_fields = fields

    def add_view(self, request, form_url="", extra_context=None):
        """Making a code asks WeChat (``qrcode/create``): a form of its own, whose errors include
        WeChat's refusal; nothing is saved unless WeChat made the code."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = QrSceneAddForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data.get("school_class"):
                    scene = services.qr_scene_for_classes(
                        school_classes=[data["school_class"]], by=request.user
                    )[0]
                else:
                    scene = services.qr_scene_create(scene=data["scene"], by=request.user)
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"已生成“{scene}”的二维码。")
                return HttpResponseRedirect(reverse("admin:official_qrscene_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "生成场景二维码",
            "opts": self.model._meta,
            "form": form,
            "submit": "生成二维码",
            "intro": "为班级生成的二维码：学生扫码关注后，验证身份即可绑定本班学生账号。永久二维码，可打印张贴。",
        }
        return TemplateResponse(request, "admin/official/simple_form.html", context)

    @admin.display(description=_("打印"))
    def print_link(self, obj):
        if not obj.url:
            return "-"
        return format_html(
            '<a href="{}" target="_blank">打印二维码</a>',
            reverse("admin:official_qrscene_print", args=[obj.pk]),
        )

    def has_change_permission(self, request, obj=None):
        return False  # a code, once made, is what was printed

    @admin.action(description=_("打印所选二维码"), permissions=("view",))
    def print_many(self, request, queryset):
        return self._print(request, list(queryset.select_related("school_class")))

    def get_urls(self):
        return [
            path(
                "<int:pk>/print/", self.admin_site.admin_view(self.print_view), name="official_qrscene_print"
            ),
            *super().get_urls(),
        ]

    def print_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._print(
            request, [get_object_or_404(QrScene.objects.select_related("school_class"), pk=pk)]
        )

    def _print(self, request, scenes):
        cards = [
            # segno's own SVG of the URL WeChat gave: nothing of a user's input is in it.
            {"scene": scene, "svg": mark_safe(segno.make(scene.url, error="m").svg_inline(scale=8, border=2))}  # noqa: S308
            for scene in scenes
            if scene.url
        ]
        return TemplateResponse(request, "admin/official/qrscene/print.html", {"cards": cards})
