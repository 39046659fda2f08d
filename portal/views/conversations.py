"""会话 (issue 14): my conversations, one conversation with text, picture and file sending, and
starting a chat from a contact's card. The pages refresh their lists by htmx polling (every few
seconds); the API's long-poll (``/api/v1/conversations/events``) is for clients that want it."""

from django import forms
from django.contrib import messages as flash
from django.shortcuts import redirect

from accounts import selectors as account_selectors
from conversations import realtime, selectors, services
from conversations.models import ConversationKind, MessageKind

from .base import Page, PortalError, not_found_as_404, service_errors

HISTORY = 50


class SendForm(forms.Form):
    message = forms.CharField(label="消息", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(label="图片或文件", required=False)
    client_id = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)


def _list_context(request) -> dict:
    memberships = list(selectors.membership_list(user=request.user)[:100])
    partners = selectors.direct_partners(user=request.user, memberships=memberships)
    book = realtime.PresenceBook(request.user, partners.values())
    rows = []
    for member in memberships:
        other = partners.get(member.conversation_id)
        rows.append(
            {
                "member": member,
                "name": member.conversation.name
                if member.conversation.kind == ConversationKind.GROUP
                else (other.full_name or other.username if other else "—"),
                "presence": book.state(other) if other else None,
                "last": member.conversation.last_message,
            }
        )
    return {"rows": rows, "unread_total": sum(m.unread_count for m in memberships)}


class ConversationsPage(Page):
    template_name = "portal/conversations/list.html"
    fragment_template = "portal/conversations/_list.html"
    title = "会话"
    tab = "conversations"

    def get(self, request):
        return self.render(_list_context(request))


def _conversation_context(request, member, form=None) -> dict:
    conversation = member.conversation
    page = selectors.message_page(conversation=conversation, params={"limit": HISTORY})
    members = list(selectors.member_list(conversation=conversation))
    other = None
    if conversation.kind == ConversationKind.DIRECT:
        other = next((m.user for m in members if m.user_id != request.user.pk), None)
    book = realtime.PresenceBook(request.user, [other] if other else [])
    return {
        "conversation": conversation,
        "thread": page["messages"][::-1],
        "other": other,
        "presence": book.state(other) if other else None,
        "members": members,
        "form": form or SendForm(initial={"client_id": services.new_client_id()}),
        "back": "/m/conversations/",
        "title": conversation.name
        if conversation.kind == ConversationKind.GROUP
        else (other.full_name if other else "会话"),
    }


class ConversationPage(Page):
    template_name = "portal/conversations/detail.html"
    fragment_template = "portal/conversations/_messages.html"
    title = "会话"
    tab = "conversations"

    def _member(self, request, conversation_id):
        with not_found_as_404():
            return selectors.member_get(user=request.user, conversation_id=conversation_id)

    def get(self, request, conversation_id: int):
        member = self._member(request, conversation_id)
        if member.unread_count or member.last_read_seq < member.conversation.last_seq:
            services.conversation_mark_read(conversation=member.conversation, user=request.user)
        return self.render(_conversation_context(request, member))

    def post(self, request, conversation_id: int):
        member = self._member(request, conversation_id)
        form = SendForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.invalid(_conversation_context(request, member, form))
        data = form.cleaned_data
        upload = data.get("file")
        if upload is not None:
            is_picture = (upload.content_type or "").startswith("image/")
            kind = MessageKind.PICTURE if is_picture else MessageKind.FILE
        else:
            kind = MessageKind.TEXT
        try:
            with service_errors(form):
                outgoing = services.message_prepare(
                    message_type=kind, text=data.get("message", ""), upload=upload
                )
                services.message_send(
                    conversation=member.conversation,
                    sender=request.user,
                    outgoing=outgoing,
                    client_id=data.get("client_id") or None,
                )
        except PortalError:
            return self.invalid(_conversation_context(request, member, form))
        return redirect("portal:conversation", conversation_id=conversation_id)


class StartConversationPage(Page):
    """POST from a contact's card: open (or start) our direct conversation."""

    template_name = "portal/contacts/person.html"
    title = "名片"
    tab = "contacts"

    def post(self, request, user_id: int):
        with not_found_as_404():
            other = account_selectors.user_get(user_id=user_id)
            try:
                conversation, _ = services.direct_get_or_create(user=request.user, other=other)
            except Exception as exc:
                from wechathhu.core.errors import ApplicationError

                if isinstance(exc, ApplicationError) and exc.status in (400, 403):
                    flash.error(request, exc.message)
                    return redirect("portal:person", user_id=user_id)
                raise
        return redirect("portal:conversation", conversation_id=conversation.pk)
