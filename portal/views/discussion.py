"""Comments, private questions and polls on the phone (issue 20 items 3 and 5): the message page's
comments and poll, and the sender's answers. The rules are the message center's own
(``messaging.comments``, ``messaging.polls``); pages parse the form and show what they decided."""

from django import forms
from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from messaging import comments, polls, selectors
from messaging.models import COMMENT_MAX_LENGTH

from .base import PAGE_SIZE, Page, PortalError, not_found_as_404, service_errors

QUESTIONS_SHOWN = 50


class CommentForm(forms.Form):
    body = forms.CharField(
        label="写评论或提问",
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"最多 {COMMENT_MAX_LENGTH} 字",
    )
    private = forms.BooleanField(label="私密提问（只有发送者能看到）", required=False)


class AnswerForm(forms.Form):
    body = forms.CharField(
        label="回答", max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class VoteForm(forms.Form):
    option = forms.TypedMultipleChoiceField(label="选项", coerce=int, choices=())

    def __init__(self, *args, poll: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [(o["id"], o["text"]) for o in poll["options"]]
        self.fields["option"].error_messages["required"] = "请至少选择一项。"


def discussion_context(request, message, *, comment_form=None, vote_form=None) -> dict:
    """What the message page shows under the message: its poll (with my choice) and the comments I
    may see, newest first (``?comments=N`` pages them)."""
    message.is_moderator = False
    poll = polls.message_poll_results(message, user=request.user)
    threads = comments.comment_list(message=message, user=request.user)
    raw = request.GET.get("comments", "1")
    number = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    return {
        "poll": poll,
        "vote_form": vote_form,
        "comment_form": comment_form or CommentForm(),
        "comment_page": Paginator(threads, PAGE_SIZE).get_page(number),
    }


class MessageCommentPage(Page):
    """POST a comment or a private question on a message I can see."""

    template_name = "portal/messages/detail.html"
    title = "消息详情"
    tab = "messages"

    def post(self, request, pk: int):
        with not_found_as_404():
            message = comments.message_get_for_discussion(user=request.user, message_id=pk)
            reader_view = selectors.message_get_for_user(user=request.user, message_id=pk)
        form = CommentForm(request.POST)
        if form.is_valid():
            try:
                with service_errors(form):
                    comment = comments.comment_create(
                        message=message,
                        user=request.user,
                        body=form.cleaned_data["body"],
                        private=form.cleaned_data["private"],
                    )
            except PortalError:
                pass
            else:
                flash.success(
                    request, "已提问，发送者回答后会通知您。" if comment.is_private else "评论已发表。"
                )
                return redirect(reverse("portal:message", args=[pk]) + "#comments")
        context = {
            "message": reader_view,
            "back": "/m/messages/",
            **discussion_context(request, reader_view, comment_form=form),
        }
        return self.invalid(context)


class MessageVotePage(Page):
    """POST my vote (or a change of it) on a message's poll."""

    template_name = "portal/messages/detail.html"
    title = "消息详情"
    tab = "messages"

    def post(self, request, pk: int):
        with not_found_as_404():
            message = polls.message_get_for_voting(user=request.user, message_id=pk)
        poll = polls.message_poll_results(message, user=request.user)
        if poll is None:
            raise Http404(polls.NO_POLL)
        form = VoteForm(request.POST, poll=poll)
        if form.is_valid():
            try:
                with service_errors(form):
                    polls.poll_vote(
                        message=message, user=request.user, option_ids=form.cleaned_data["option"]
                    )
            except PortalError:
                pass
            else:
                flash.success(request, "投票成功。")
                return redirect(reverse("portal:message", args=[pk]) + "#poll")
        message = selectors.message_get_for_user(user=request.user, message_id=pk)
        context = {
            "message": message,
            "back": "/m/messages/",
            **discussion_context(request, message, vote_form=form),
        }
        return self.invalid(context)


def questions_context(request, message) -> dict:
    """The sender's side: the private questions (open ones counted), each with its answers."""
    message.is_moderator = True
    questions = list(
        comments.comment_list(message=message, user=request.user, private=True)[:QUESTIONS_SHOWN]
    )
    return {
        "questions": questions,
        "open_question_count": sum(1 for q in questions if q.answered_at is None and q.hidden_at is None),
        "answer_form": AnswerForm(),
    }


class SentAnswerPage(Page):
    """POST the sender's answer to a question (or comment) on a message I sent."""

    template_name = "portal/sending/detail.html"
    title = "发送情况"
    tab = "messages"

    def post(self, request, pk: int, comment_id: int):
        with not_found_as_404():
            message = comments.message_get_for_discussion(user=request.user, message_id=pk)
        form = AnswerForm(request.POST)
        if form.is_valid():
            try:
                with service_errors(form):
                    comments.comment_create(
                        message=message,
                        user=request.user,
                        body=form.cleaned_data["body"],
                        reply_to_id=comment_id,
                    )
            except PortalError:
                pass
            else:
                flash.success(request, "已回答，提问者会收到通知。")
                return redirect(reverse("portal:sent-message", args=[pk]) + "#questions")
        flash.error(
            request, "；".join(e for errors in form.errors.values() for e in errors) or "回答未保存。"
        )
        return redirect(reverse("portal:sent-message", args=[pk]) + "#questions")
