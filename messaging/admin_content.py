"""The admin's side of attachments and templates (issue 20 items 4 and 8).

* The compose form gets a ``files`` field (several files at once), checked by the message center's
  own rule (``attachments.check_upload``) before anything is sent; the message and its files are
  written by ``compose.message_compose`` (add) or ``attachments.attachments_add`` (change).
* ``MessageAttachmentInline`` lists a message's files (name, size, type, download link); the sender
  removes one by ticking “删除”, which goes through ``attachments.attachment_delete``.
* ``MessageTemplateAdmin``: senders manage their templates (shared ones are visible to all senders);
  the action “用模板发消息” opens the compose form pre-filled from it.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from wechathhu.core.errors import ApplicationError
from wechathhu.core.forms import MultipleFileField

from . import attachments, selectors, templates_service
from .models import MessageAttachment, MessageTemplate


def files_field() -> MultipleFileField:
    from django.conf import settings

    return MultipleFileField(
        label=_("附件"),
        required=False,
        help_text=_("可多选；每条消息最多 %(n)s 个，PDF、Office 文档、压缩包或图片（按文件内容识别）")
        % {"n": settings.MESSAGING_ATTACHMENT_MAX_COUNT},
    )


def clean_files(files: list) -> list:
    """The compose form's check of its files: the message center's own rule, as a form error."""
    for upload in files:
        try:
            attachments.check_upload(upload)
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc
    return files


def save_attachment_deletions(request, formsets) -> None:
    """Remove the attachments ticked “删除” in the inline, through the service."""
    for formset in formsets:
        if formset.model is not MessageAttachment:
            continue
        formset.save(commit=False)  # lists what was ticked (and what the change message reports)
        for attachment in formset.deleted_objects:
            if attachment.message.sender_id == request.user.pk:
                attachments.attachment_delete(attachment=attachment)


class MessageAttachmentInline(admin.TabularInline):
    model = MessageAttachment
    extra = 0
    max_num = 0  # files are added with the form's 附件 field (checked by their bytes)
    fields = ("file_name", "size", "content_type", "download")
    readonly_fields = fields
    verbose_name = _("附件")
    verbose_name_plural = _("附件（上传请用上方“附件”字段）")

    # Shown only on a message that has files (so the compose form and an edit without files post no
    # inline management form).
    def _shown(self, request, obj) -> bool:
        return obj is not None and selectors.user_can_send(user=request.user) and obj.attachments.exists()

    def get_queryset(self, request):
        # Django asks for the rows without the message (``has_view_permission(request)``); the
        # formset narrows them to the message's own.
        if not selectors.user_can_send(user=request.user):
            return MessageAttachment.objects.none()
        return MessageAttachment.objects.all()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return self._shown(request, obj) and obj.sender_id == request.user.pk

    def has_delete_permission(self, request, obj=None):
        return self._shown(request, obj) and obj.sender_id == request.user.pk

    def has_view_permission(self, request, obj=None):
        return self._shown(request, obj)

    @admin.display(description=_("大小"))
    def size(self, obj):
        return filesizeformat(obj.file_size)

    @admin.display(description=_("下载"))
    def download(self, obj):
        url = reverse(
            "messaging:message-attachment-download", kwargs={"pk": obj.message_id, "attachment_id": obj.pk}
        )
        return format_html('<a href="{}">{}</a>', url, _("下载"))


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ("name", "title", "content", "type", "priority", "category", "is_shared")

    def __init__(self, *args, **kwargs):
        from .models import MessagePriority, MessageType

        super().__init__(*args, **kwargs)
        self.fields["type"].widget = forms.Select(choices=MessageType.choices)
        self.fields["priority"].widget = forms.Select(choices=MessagePriority.choices)
        self.fields["content"].help_text = _("可用占位符：%(names)s，发送时按每位接收者填写") % {
            "names": "、".join("{" + n + "}" for n in templates_service.PLACEHOLDERS)
        }

    def clean(self):
        data = super().clean()
        try:
            templates_service.check_placeholders(
                title=data.get("title") or "", content=data.get("content") or ""
            )
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc
        return data


class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("name", "title", "owner", "is_shared", "updated_at", "use_link")
    list_select_related = ("owner", "category")
    list_filter = ("is_shared",)
    search_fields = ("name", "title")
    ordering = ("-updated_at", "-id")

    def has_module_permission(self, request):
        return selectors.user_can_send(user=request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.user_can_send(user=request.user) and (
            obj is None or obj.owner_id == request.user.pk or obj.is_shared
        )

    def has_add_permission(self, request):
        return selectors.user_can_send(user=request.user)

    def has_change_permission(self, request, obj=None):
        return selectors.user_can_send(user=request.user) and (obj is None or obj.owner_id == request.user.pk)

    has_delete_permission = has_change_permission

    def get_queryset(self, request):
        return super().get_queryset(request).filter(Q(owner=request.user) | Q(is_shared=True))

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data[f] for f in ("name", "title", "content", "type", "priority", "is_shared")
        }
        data["category_id"] = form.cleaned_data["category"].pk if form.cleaned_data.get("category") else None
        if change:
            templates_service.template_update(template=obj, data=data)
        else:
            form.instance = templates_service.template_create(owner=request.user, **data)
            obj.pk = form.instance.pk

    def delete_model(self, request, obj):
        templates_service.template_delete(template=obj)

    @admin.display(description=_("使用"))
    def use_link(self, obj):
        url = reverse("admin:messaging_message_add") + "?" + urlencode({"template": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("用模板发消息"))


def template_initial(request, queryset_user) -> dict:
    """``?template=<id>``: the compose form's initial values from a template the user may use."""
    raw = request.GET.get("template", "")
    if not raw.isdigit() or len(raw) > 18:
        return {}
    template = templates_service.template_list(user=queryset_user).filter(pk=int(raw)).first()
    if template is None:
        return {}
    return {
        "title": template.title,
        "content": template.content,
        "type": template.type,
        "priority": template.priority,
        "category": template.category_id,
    }
