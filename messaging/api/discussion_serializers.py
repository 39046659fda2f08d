"""Shapes of comments, private questions and polls (issue 20 items 3 and 5), added to seed 001's
message shapes (``comments_open``, ``comment_count``, ``poll``), never replacing a field of them."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import PublicUserSerializer
from messaging import polls
from messaging.models import COMMENT_MAX_LENGTH, MessageComment, PollVote
from wechathhu.api.fields import PortalDateTimeField

MAX_ID = 2**63 - 1


class PollOptionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    vote_count = serializers.IntegerField(help_text="选这一项的人数")
    percentage = serializers.FloatField(
        help_text="选这一项的人占投票人数的百分比（多选时各项之和可超过 100）"
    )
    chosen = serializers.BooleanField(help_text="我是否选了这一项")


class PollResultSerializer(serializers.Serializer):
    """A message's poll with its results and my own choice."""

    id = serializers.IntegerField()
    question = serializers.CharField()
    multiple = serializers.BooleanField(help_text="是否多选")
    max_choices = serializers.IntegerField(help_text="最多可选几项（单选为 1）")
    anonymous = serializers.BooleanField(help_text="匿名投票：发送者也看不到谁投了什么")
    allow_change = serializers.BooleanField(help_text="截止前是否允许修改选择")
    closes_at = serializers.DateTimeField(allow_null=True, help_text="截止时间；null 表示不截止")
    is_closed = serializers.BooleanField()
    voter_count = serializers.IntegerField(help_text="投票人数")
    options = PollOptionResultSerializer(many=True)
    my_option_ids = serializers.ListField(child=serializers.IntegerField(), help_text="我选的选项ID")
    has_voted = serializers.BooleanField()
    can_vote = serializers.BooleanField(help_text="我现在能否投票（或改票）")


class MessageDiscussionFieldsMixin(serializers.Serializer):
    """The fields every message shape gains: whether comments are open, how many, and the poll."""

    comments_open = serializers.BooleanField(read_only=True, help_text="扩展：是否开放评论和私密提问")
    comment_count = serializers.IntegerField(
        read_only=True, help_text="扩展：公开评论数（不含回复、私密提问和已隐藏的评论）"
    )
    poll = serializers.SerializerMethodField(help_text="扩展：消息附带的投票及结果；没有投票为 null")

    @extend_schema_field(PollResultSerializer(allow_null=True))
    def get_poll(self, obj):
        request = self.context.get("request")
        data = polls.message_poll_results(obj, user=getattr(request, "user", None))
        return None if data is None else PollResultSerializer(data).data


DISCUSSION_MESSAGE_FIELDS = ("comments_open", "comment_count", "poll")


# --- Comments ------------------------------------------------------------------------------------


class CommentReplySerializer(serializers.ModelSerializer):
    author = PublicUserSerializer(read_only=True)
    private = serializers.BooleanField(source="is_private", read_only=True)
    is_hidden = serializers.BooleanField(read_only=True, help_text="已隐藏（只有发送者和管理员看得到）")

    class Meta:
        model = MessageComment
        fields = ("id", "message_id", "author", "body", "private", "reply_to", "is_hidden", "created_at")
        read_only_fields = fields


class CommentSerializer(CommentReplySerializer):
    """A thread: a comment or private question, with the answers I may see (oldest first)."""

    is_answered = serializers.SerializerMethodField(help_text="私密提问是否已有回答")
    replies = CommentReplySerializer(many=True, read_only=True, source="visible_replies")

    class Meta(CommentReplySerializer.Meta):
        fields = (*CommentReplySerializer.Meta.fields, "is_answered", "replies")
        read_only_fields = fields

    def get_is_answered(self, obj) -> bool:
        return obj.answered_at is not None


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH,
        trim_whitespace=True,
        error_messages={
            "blank": "评论内容不能为空。",
            "max_length": f"评论内容不能超过 {COMMENT_MAX_LENGTH} 字。",
        },
        help_text=f"评论内容，1–{COMMENT_MAX_LENGTH} 字",
    )
    private = serializers.BooleanField(
        required=False, default=False, help_text="私密提问：只有我、发送者和消息中心管理员看得到"
    )
    reply_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="回答某条评论或提问（仅发送者和消息中心管理员）；回答与原提问一样私密",
    )


class CommentListQuerySerializer(serializers.Serializer):
    private = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true 只看私密提问，false 只看公开评论"
    )


# --- Polls ---------------------------------------------------------------------------------------


class PollInputSerializer(serializers.Serializer):
    """A poll created with its message (``poll`` of the create endpoints)."""

    question = serializers.CharField(max_length=polls.QUESTION_MAX_LENGTH, help_text="投票问题")
    options = serializers.ListField(
        child=serializers.CharField(max_length=polls.OPTION_MAX_LENGTH),
        min_length=polls.MIN_OPTIONS,
        max_length=polls.MAX_OPTIONS,
        error_messages={
            "min_length": f"投票选项至少 {polls.MIN_OPTIONS} 个。",
            "max_length": f"投票选项最多 {polls.MAX_OPTIONS} 个。",
        },
        help_text=f"选项文字，{polls.MIN_OPTIONS}–{polls.MAX_OPTIONS} 个，不能重复",
    )
    multiple = serializers.BooleanField(required=False, default=False, help_text="是否多选")
    max_choices = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=polls.MAX_OPTIONS,
        help_text="多选时最多可选几项（2 到选项数，缺省为全部）；单选为 1",
    )
    anonymous = serializers.BooleanField(required=False, default=False, help_text="匿名投票")
    allow_change = serializers.BooleanField(required=False, default=True, help_text="截止前允许改票")
    closes_at = PortalDateTimeField(required=False, allow_null=True, help_text="截止时间；缺省不截止")


class VoteInputSerializer(serializers.Serializer):
    option_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=polls.MAX_OPTIONS,
        error_messages={"empty": "请至少选择一项。"},
        help_text="选择的选项ID（单选 1 个）；再次提交即改票（若允许）",
    )


class PollVoteRowSerializer(serializers.ModelSerializer):
    voter = PublicUserSerializer(read_only=True)
    option_ids = serializers.SerializerMethodField()
    options = serializers.SerializerMethodField()
    voted_at = serializers.DateTimeField(
        source="updated_at", read_only=True, help_text="投票（或最后改票）时间"
    )

    class Meta:
        model = PollVote
        fields = ("voter", "option_ids", "options", "voted_at")
        read_only_fields = fields

    def get_option_ids(self, obj) -> list[int]:
        return [o.pk for o in obj.options.all()]

    def get_options(self, obj) -> list[str]:
        return [o.text for o in obj.options.all()]
