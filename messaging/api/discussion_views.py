"""Comments, private questions and polls under ``/api/v1/messages/{id}/…`` (issue 20 items 3 and 5),
in seed 001's envelope. Views validate input, call one service or selector, and serialise the result.

Anyone who cannot see the message gets 404 for all of these, never its comments or its poll."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status

from messaging import comments, polls
from wechathhu.api.renderers import EnvelopeResponse
from wechathhu.api.schema import envelope_errors, enveloped, enveloped_page

from .discussion_serializers import (
    CommentInputSerializer,
    CommentListQuerySerializer,
    CommentSerializer,
    PollResultSerializer,
    PollVoteRowSerializer,
    VoteInputSerializer,
)
from .views import TAGS, EnvelopeAPIView

CommentEnvelope = enveloped(CommentSerializer, name="CommentEnvelope")
PollEnvelope = enveloped(PollResultSerializer, name="PollEnvelope")


class MessageCommentsView(EnvelopeAPIView):
    """一条消息的评论和私密提问，最新的在前，每条带我能看到的回答（最早的在前）。

    能看到这条消息的人都能看到公开评论；私密提问（`private: true`）只有提问者、发送者和消息中心管理员
    看得到，回答与提问一样私密。发送者和管理员还能看到已隐藏的评论（`is_hidden: true`）。看不到这条
    消息的人为 404。

    POST 发表评论或私密提问（消息须开放评论）；发送者或消息中心管理员用 `reply_to` 回答。新的私密提问会
    提醒发送者（同一条消息每小时最多一次）。"""

    serializer_class = CommentInputSerializer  # the browsable API's form
    pagination_results_key = "comments"
    list_message = "获取评论成功"

    @extend_schema(
        tags=TAGS,
        operation_id="messages_comments_list",
        parameters=[OpenApiParameter("private", bool, description="true 只看私密提问，false 只看公开评论")],
        responses={
            200: enveloped_page(CommentSerializer, name="CommentPage", key="comments"),
            **envelope_errors(400, 401, 404),
        },
    )
    def get(self, request, pk: int):
        query = CommentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        message = comments.message_get_for_discussion(user=request.user, message_id=pk)
        threads = comments.comment_list(
            message=message, user=request.user, private=query.validated_data["private"]
        )
        page = self.paginate_queryset(threads)
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        operation_id="messages_comments_create",
        request=CommentInputSerializer,
        responses={201: CommentEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request, pk: int):
        message = comments.message_get_for_discussion(user=request.user, message_id=pk)
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        comment = comments.comment_create(
            message=message,
            user=request.user,
            body=data["body"],
            private=data["private"],
            reply_to_id=data.get("reply_to"),
        )
        comment.visible_replies = []
        text = "回答成功" if comment.reply_to_id else ("提问成功" if comment.is_private else "评论成功")
        return EnvelopeResponse(CommentSerializer(comment).data, message=text, status=status.HTTP_201_CREATED)


class _ModerationView(EnvelopeAPIView):
    hidden = True
    done_message = ""

    def post(self, request, pk: int, comment_id: int):
        message = comments.message_get_for_discussion(user=request.user, message_id=pk)
        action = comments.comment_hide if self.hidden else comments.comment_unhide
        comment = action(message=message, comment_id=comment_id, by=request.user)
        comment.visible_replies = []
        return EnvelopeResponse(CommentSerializer(comment).data, message=self.done_message)


class MessageCommentHideView(_ModerationView):
    """隐藏一条评论或提问（发送者或消息中心管理员）：其他人不再看到它，记录保留备查。重复隐藏无害。
    能看到消息的其他人为 403，看不到的为 404。"""

    done_message = "已隐藏评论"

    @extend_schema(
        tags=TAGS,
        operation_id="messages_comments_hide",
        request=None,
        responses={200: CommentEnvelope, **envelope_errors(401, 403, 404)},
    )
    def post(self, request, pk: int, comment_id: int):
        return super().post(request, pk, comment_id)


class MessageCommentUnhideView(_ModerationView):
    """取消隐藏一条评论或提问（发送者或消息中心管理员）。"""

    hidden = False
    done_message = "已取消隐藏"

    @extend_schema(
        tags=TAGS,
        operation_id="messages_comments_unhide",
        request=None,
        responses={200: CommentEnvelope, **envelope_errors(401, 403, 404)},
    )
    def post(self, request, pk: int, comment_id: int):
        return super().post(request, pk, comment_id)


class MessagePollVoteView(EnvelopeAPIView):
    """在消息的投票中投票（每人一票）；再次提交即改票（截止前，且发送者允许改票）。单选只能选 1 项，
    多选最多 `max_choices` 项。返回投票结果和我的选择。只有消息的接收者可以投票；看不到消息的人为 404。"""

    serializer_class = VoteInputSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="messages_poll_vote",
        request=VoteInputSerializer,
        responses={200: PollEnvelope, **envelope_errors(400, 401, 403, 404)},
    )
    def post(self, request, pk: int):
        message = polls.message_get_for_voting(user=request.user, message_id=pk)
        serializer = VoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        poll = polls.poll_vote(
            message=message, user=request.user, option_ids=serializer.validated_data["option_ids"]
        )
        return EnvelopeResponse(
            PollResultSerializer(polls.poll_results(poll, user=request.user)).data, message="投票成功"
        )


class MessagePollVotesView(EnvelopeAPIView):
    """谁投了什么（发送者或消息中心管理员）：按投票先后分页列出。匿名投票不公开投票人（403）；能看到消息的
    其他人为 403，看不到的为 404。后台可导出 Excel。"""

    pagination_results_key = "votes"
    list_message = "获取投票明细成功"
    serializer_class = PollVoteRowSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="messages_poll_votes",
        responses={
            200: enveloped_page(PollVoteRowSerializer, name="PollVotePage", key="votes"),
            **envelope_errors(400, 401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        message = comments.message_get_for_discussion(user=request.user, message_id=pk)
        votes = polls.poll_votes_for_sender(message=message, user=request.user)
        page = self.paginate_queryset(votes)
        return self.get_paginated_response(PollVoteRowSerializer(page, many=True).data)
