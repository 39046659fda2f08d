"""Messages people answer (issue 20 items 3 and 5): comments and private questions, and polls.

Kept apart from ``messaging.models`` so the message center's parts grow without stepping on each
other; ``messaging.models`` imports every model defined here. Relations to ``Message`` are by name.

* ``MessageComment``: a public comment, or a private question (``is_private``) that only its asker,
  the message's sender and message-center staff see; the sender (or staff) answers with a reply
  (``reply_to``, always the thread's first comment). ``private_to`` is the asker of a private
  thread (on the question and on its answers), so "what may I see" is one indexed condition.
  A hidden comment (``hidden_at``) disappears for everyone but the sender and staff, and stays for
  audit. ``Message.comment_count`` counts the visible public comments (a counter, kept by the
  service with ``F()``).
* ``Poll`` (one per message), its ``PollOption`` rows (with their ``vote_count`` counter) and one
  ``PollVote`` per person (a constraint), holding the options chosen. Counters change only under
  the poll's row lock (``messaging.polls.poll_vote``).
"""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wechathhu.core.models import TimestampedModel

__all__ = ["COMMENT_MAX_LENGTH", "MessageComment", "Poll", "PollOption", "PollVote"]

COMMENT_MAX_LENGTH = 1000


class MessageComment(TimestampedModel):
    message = models.ForeignKey(
        "messaging.Message", verbose_name=_("消息"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("作者"), on_delete=models.CASCADE, related_name="+"
    )
    body = models.TextField(
        _("内容"), max_length=COMMENT_MAX_LENGTH, validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)]
    )
    is_private = models.BooleanField(
        _("私密提问"), default=False, help_text=_("仅提问者、发送者和管理员可见")
    )
    private_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提问者"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("私密提问及其回答：除发送者和管理员外唯一能看到的人"),
    )
    reply_to = models.ForeignKey(
        "self",
        verbose_name=_("回复"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
    )
    # True on an answer (``reply_to`` set): the comment page filters thread heads on this column,
    # so its index serves the newest-first page without a sort (a nullable ``reply_to`` alone
    # led MariaDB to intersect indexes and sort the whole thread list).
    is_answer = models.BooleanField(_("回答"), default=False, editable=False)
    answered_at = models.DateTimeField(
        _("回答时间"), null=True, blank=True, help_text=_("发送者首次回答的时间")
    )
    hidden_at = models.DateTimeField(_("隐藏时间"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("隐藏者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("消息评论")
        verbose_name_plural = _("消息评论")
        ordering = ("-id",)
        indexes = [
            # A message's thread heads, newest first (the comment page).
            models.Index(fields=["message", "is_answer", "id"], name="message_comment_page"),
            # A sender's open questions.
            models.Index(fields=["message", "is_private", "answered_at"], name="message_comment_questions"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_answer=False, reply_to__isnull=True)
                | Q(is_answer=True, reply_to__isnull=False),
                name="message_comment_answer_has_thread",
            ),
            models.CheckConstraint(
                condition=Q(is_private=False, private_to__isnull=True)
                | Q(is_private=True, private_to__isnull=False),
                name="message_comment_private_has_asker",
            ),
        ]

    def __str__(self):
        return self.body[:30]

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Poll(TimestampedModel):
    """A message's poll. ``max_choices`` is 1 for a single-choice poll."""

    message = models.OneToOneField(
        "messaging.Message", verbose_name=_("消息"), on_delete=models.CASCADE, related_name="poll"
    )
    question = models.CharField(_("问题"), max_length=200)
    multiple = models.BooleanField(_("多选"), default=False)
    max_choices = models.PositiveSmallIntegerField(_("最多选几项"), default=1)
    anonymous = models.BooleanField(_("匿名投票"), default=False, help_text=_("匿名时发送者看不到谁投了什么"))
    allow_change = models.BooleanField(_("允许改票"), default=True, help_text=_("截止前可以修改自己的选择"))
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True, help_text=_("留空表示不截止"))
    voter_count = models.PositiveIntegerField(_("投票人数"), default=0)

    class Meta:
        verbose_name = _("投票")
        verbose_name_plural = _("投票")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_choices__gte=1) & (Q(multiple=True) | Q(max_choices=1)),
                name="poll_max_choices_valid",
                violation_error_message=_("单选投票最多选 1 项；多选投票至少可选 1 项。"),
            ),
        ]

    def __str__(self):
        return self.question

    @property
    def is_closed(self) -> bool:
        return self.closes_at is not None and self.closes_at <= timezone.now()


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, verbose_name=_("投票"), on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("序号"))
    text = models.CharField(_("选项"), max_length=100)
    vote_count = models.PositiveIntegerField(_("票数"), default=0)

    class Meta:
        verbose_name = _("投票选项")
        verbose_name_plural = _("投票选项")
        ordering = ("poll", "position")
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="poll_option_position_unique"),
        ]

    def __str__(self):
        return self.text


class PollVote(TimestampedModel):
    """One person's vote on a poll (one per person: a constraint), with the options they chose."""

    poll = models.ForeignKey(Poll, verbose_name=_("投票"), on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("投票人"), on_delete=models.CASCADE, related_name="+"
    )
    options = models.ManyToManyField(PollOption, verbose_name=_("选择"), related_name="+")

    class Meta:
        verbose_name = _("投票记录")
        verbose_name_plural = _("投票记录")
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=["voter", "poll"], name="poll_vote_one_per_person"),
        ]

    def __str__(self):
        return f"{self.poll_id} ← {self.voter_id}"
