"""The teachers' side of 消息: compose to the audiences I may send to, my sent messages with their
read rate, and who has not read one. The rules (who may send, to whom, the read rate) are the
message center's own (``messaging.services`` / ``messaging.selectors``)."""

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from messaging import audiences, compose, selectors, templates_service
from messaging.categories import category_list
from messaging.models import MessagePriority, MessageType
from wechathhu.core.forms import MultipleFileField

from .base import Page, PortalError, not_found_as_404, paginate, service_errors

AUDIENCE_OPTIONS_SHOWN = 100
TEMPLATES_SHOWN = 50


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def audiences_for(user, *, search: str = "") -> dict:
    """What the compose page offers: the message center's own list of what ``user`` may send to
    (``messaging.audiences``: a counsellor's classes and their students, a group manager's groups,
    everything for senders), at most ``AUDIENCE_OPTIONS_SHOWN`` of them (search to narrow)."""
    options = audiences.audience_options(scope=audiences.sender_scope(user=user), search=search)
    by_type: dict[str, list] = {"department": [], "class": [], "group": [], "user": []}
    for option in options[:AUDIENCE_OPTIONS_SHOWN]:
        by_type[option["type"]].append(option)
    return {**by_type, "truncated": len(options) > AUDIENCE_OPTIONS_SHOWN}


AUDIENCE_FIELDS = (
    ("department", "department_ids", "系所"),
    ("class", "class_ids", "班级"),
    ("group", "group_ids", "分组"),
    ("user", "recipient_ids", "个人"),
)


class ComposeForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200)
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    category_id = forms.TypedChoiceField(label="分类", required=False, coerce=int, empty_value=None)
    type = forms.ChoiceField(label="类型", choices=MessageType.choices, initial=MessageType.NOTIFICATION)
    priority = forms.ChoiceField(
        label="优先级", choices=MessagePriority.choices, initial=MessagePriority.NORMAL
    )
    published_at = forms.DateTimeField(
        label="定时发送",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="留空立即发送",
    )
    files = MultipleFileField(
        label="附件",
        required=False,
        help_text=f"最多 {settings.MESSAGING_ATTACHMENT_MAX_COUNT} 个；PDF、Office 文档、压缩包或图片（按文件内容识别）",
    )

    def __init__(self, *args, audiences=None, **kwargs):
        super().__init__(*args, **kwargs)
        audiences = audiences or {}
        fields = {}
        for kind, name, label in AUDIENCE_FIELDS:
            options = audiences.get(kind) or []
            if options:
                fields[name] = forms.TypedMultipleChoiceField(
                    label=label,
                    required=False,
                    coerce=int,
                    widget=forms.CheckboxSelectMultiple,
                    choices=[(o["id"], f"{o['name']}（{o['size']} 人）") for o in options],
                )
        # The audience first: who the message is for, then what it says.
        self.fields = {**fields, **self.fields}
        self.fields["category_id"].choices = [("", "（无）"), *((c.pk, c.name) for c in category_list())]


class ComposePage(Page):
    template_name = "portal/sending/compose.html"
    title = "发消息"
    tab = "messages"

    def _audiences(self, request) -> dict:
        if not selectors.user_can_send(user=request.user):
            raise PermissionDenied("您没有发送消息的权限。")
        search = (request.GET.get("audience") or "")[:50]
        return audiences_for(request.user, search=search)

    def _templates(self, request) -> list:
        return list(templates_service.template_list(user=request.user)[:TEMPLATES_SHOWN])

    def _initial(self, request, templates) -> dict:
        """Start from a template (``?template=<id>``): its text, type, priority and category."""
        chosen = {t.pk: t for t in templates}.get(_int(request.GET.get("template")))
        if chosen is None:
            return {}
        return {
            "title": chosen.title,
            "content": chosen.content,
            "type": chosen.type,
            "priority": chosen.priority,
            "category_id": chosen.category_id,
        }

    def get(self, request):
        options = self._audiences(request)
        templates = self._templates(request)
        form = ComposeForm(audiences=options, initial=self._initial(request, templates))
        return self.render(
            {
                "form": form,
                "back": "/m/sent/",
                "truncated": options["truncated"],
                "audience": request.GET.get("audience", ""),
                "templates": templates,
                "template_id": _int(request.GET.get("template")),
            }
        )

    def post(self, request):
        options = self._audiences(request)
        form = ComposeForm(request.POST, request.FILES, audiences=options)
        context = {"form": form, "back": "/m/sent/", "truncated": options["truncated"]}
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        try:
            with service_errors(form):
                message = compose.message_compose(
                    sender=request.user,
                    uploads=data.get("files") or (),
                    title=data["title"],
                    content=data["content"],
                    type=data["type"],
                    priority=data["priority"],
                    class_ids=data.get("class_ids") or (),
                    group_ids=data.get("group_ids") or (),
                    department_ids=data.get("department_ids") or (),
                    recipient_ids=data.get("recipient_ids") or (),
                    published_at=data["published_at"],
                    category_id=data["category_id"],
                )
        except PortalError:
            return self.invalid(context)
        when = "已定时发送" if message.published_at > timezone.now() else "已发送"
        flash.success(request, f"{when}，共 {message.audience_size} 位接收者。")
        return redirect("portal:sent-message", pk=message.pk)


class SentPage(Page):
    template_name = "portal/sending/sent.html"
    title = "我发的消息"
    tab = "messages"

    def get(self, request):
        if not selectors.user_can_send(user=request.user):
            raise PermissionDenied("您没有发送消息的权限。")
        page_obj = paginate(
            request, selectors.with_read_total(selectors.message_list_for_sender(user=request.user))
        )
        for message in page_obj.object_list:
            message.read_rate = selectors.read_rate(read=message.read_total, audience=message.audience_size)
        return self.render({"page_obj": page_obj, "back": "/m/messages/"})


class SentMessagePage(Page):
    template_name = "portal/sending/detail.html"
    title = "发送情况"
    tab = "messages"

    def get(self, request, pk: int):
        with not_found_as_404():
            message = selectors.message_get_for_sender(user=request.user, message_id=pk)
        figures = selectors.message_read_figures(message=message)
        unread = paginate(
            request, selectors.message_audience_list(message=message, state="unread"), per_page=50
        )
        return self.render({"message": message, "figures": figures, "page_obj": unread, "back": "/m/sent/"})
