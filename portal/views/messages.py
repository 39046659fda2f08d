"""消息: my inbox (seed 001's message center) and a message; opening a message marks it read."""

from django.contrib import messages as flash
from django.shortcuts import redirect

from messaging import selectors, services

from ..forms import InboxFilterForm
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
