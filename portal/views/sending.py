"""The teachers' side of 消息: compose to the audiences I may send to, my sent messages with their
read rate, and who has not read one. The rules (who may send, to whom, the read rate) are the
message center's own (``messaging.services`` / ``messaging.selectors``)."""

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import CampusGroup, Department, SchoolClass
from messaging import selectors, services
from messaging.audiences import sender_scope
from messaging.categories import category_list
from messaging.models import MessagePriority, MessageType

from .base import Page, PortalError, not_found_as_404, paginate, service_errors


def audiences_for(user) -> dict:
    """What the compose page offers: the classes and groups I look after, and (for senders with a
    wider reach) every department. Who may send to what is still the service's decision."""
    managed = account_selectors.user_managed_audiences(user=user)
    return {
        "classes": list(SchoolClass.objects.filter(pk__in=managed.class_ids).order_by("name")),
        "groups": list(CampusGroup.objects.filter(pk__in=managed.group_ids).order_by("name")),
        "departments": list(Department.objects.order_by("name"))
        if sender_scope(user=user).unrestricted
        else [],
    }


class ComposeForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200)
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    class_ids = forms.TypedMultipleChoiceField(
        label="班级", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    group_ids = forms.TypedMultipleChoiceField(
        label="分组", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    department_ids = forms.TypedMultipleChoiceField(label="系所", required=False, coerce=int)
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

    def __init__(self, *args, audiences=None, **kwargs):
        super().__init__(*args, **kwargs)
        audiences = audiences or {}
        self.fields["class_ids"].choices = [(c.pk, c.name) for c in audiences.get("classes", [])]
        self.fields["group_ids"].choices = [(g.pk, g.name) for g in audiences.get("groups", [])]
        self.fields["department_ids"].choices = [(d.pk, d.name) for d in audiences.get("departments", [])]
        self.fields["department_ids"].widget.attrs["size"] = 4
        self.fields["category_id"].choices = [("", "（无）"), *((c.pk, c.name) for c in category_list())]
        for name in ("class_ids", "group_ids", "department_ids"):
            if not self.fields[name].choices:
                del self.fields[name]


class ComposePage(Page):
    template_name = "portal/sending/compose.html"
    title = "发消息"
    tab = "messages"

    def _audiences(self, request) -> dict:
        audiences = audiences_for(request.user)
        if not selectors.user_can_send(user=request.user):
            raise PermissionDenied("您没有发送消息的权限。")
        return audiences

    def get(self, request):
        form = ComposeForm(audiences=self._audiences(request))
        return self.render({"form": form, "back": "/m/sent/"})

    def post(self, request):
        form = ComposeForm(request.POST, audiences=self._audiences(request))
        context = {"form": form, "back": "/m/sent/"}
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        try:
            with service_errors(form):
                message = services.message_create(
                    sender=request.user,
                    title=data["title"],
                    content=data["content"],
                    type=data["type"],
                    priority=data["priority"],
                    class_ids=data.get("class_ids") or (),
                    group_ids=data.get("group_ids") or (),
                    department_ids=data.get("department_ids") or (),
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
