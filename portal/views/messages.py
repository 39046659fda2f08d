"""消息: my inbox (seed 001's message center) and a message; opening a message marks it read."""

from django.contrib import messages as flash
from django.shortcuts import redirect

from messaging import hot, preferences, selectors, services

from ..forms import InboxFilterForm, PreferencesForm
from .base import Page, PortalError, not_found_as_404, paginate, service_errors


class InboxPage(Page):
    template_name = "portal/messages/inbox.html"
    fragment_template = "portal/messages/_list.html"
    title = "消息"
    tab = "messages"

    def get(self, request):
        form = InboxFilterForm(request.GET or None)
        context = {"form": form, "page_obj": None}
        filters = {}
        if form.is_bound and form.is_valid():
            filters = {key: value for key, value in form.cleaned_data.items() if value}
        elif form.is_bound:
            return self.invalid(context)
        try:
            with service_errors(form):
                inbox = selectors.message_inbox(user=request.user, filters=filters)
                context["page_obj"] = paginate(request, inbox)
        except PortalError:
            return self.invalid(context)
        return self.render(context)


class HotPage(Page):
    """热门: the hot list's own selector (``messaging.hot``), the last week."""

    template_name = "portal/messages/inbox.html"
    fragment_template = "portal/messages/_list.html"
    title = "热门消息"
    tab = "messages"
    days = 7

    def get(self, request):
        page_obj = paginate(request, hot.message_hot_list(user=request.user, days=self.days))
        return self.render({"form": InboxFilterForm(), "page_obj": page_obj, "hot": True, "days": self.days})


class MessagePage(Page):
    template_name = "portal/messages/detail.html"
    title = "消息详情"
    tab = "messages"

    def get(self, request, pk: int):
        with not_found_as_404():
            message = selectors.message_get_for_user(user=request.user, message_id=pk)
        if message.state_read_at is None:
            services.message_mark_read(user=request.user, message_ids=[message.pk])
        return self.render({"message": message, "back": "/m/messages/"})


class MessageArchivePage(Page):
    def post(self, request, pk: int):
        with not_found_as_404():
            message = selectors.message_get_for_user(user=request.user, message_id=pk)
        services.message_archive(user=request.user, message_ids=[message.pk])
        flash.success(request, "已归档。")
        return redirect("portal:inbox")


class PreferencesPage(Page):
    template_name = "portal/messages/preferences.html"
    title = "消息设置"
    tab = "messages"

    def _form(self, request, data=None):
        overview = preferences.preferences_overview(user=request.user)
        initial = {
            "followed": [str(c["id"]) for c in overview["categories"] if c["followed"]],
            **{
                key: overview[key]
                for key in (
                    "quiet_hours_start",
                    "quiet_hours_end",
                    "preferred_channel",
                    "digest_enabled",
                    "digest_time",
                )
            },
        }
        return PreferencesForm(data, initial=initial, categories=overview["categories"])

    def get(self, request):
        return self.render({"form": self._form(request), "back": "/m/messages/"})

    def post(self, request):
        form = self._form(request, request.POST)
        context = {"form": form, "back": "/m/messages/"}
        if not form.is_valid():
            return self.invalid(context)
        data = dict(form.cleaned_data)
        followed = {int(pk) for pk in data.pop("followed")}
        data["muted_category_ids"] = [c["id"] for c in form.categories if c["id"] not in followed]
        try:
            with service_errors(form):
                preferences.delivery_preferences_update(user=request.user, data=data)
        except PortalError:
            return self.invalid(context)
        flash.success(request, "消息设置已保存。")
        return redirect("portal:preferences")
