"""The poll fields of a compose form (the admin's and the phone page's): what a sender types, turned
into ``polls.poll_clean``'s arguments; the service's rule is reported on the form."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from wechathhu.core.errors import ApplicationError

from . import polls


class PollComposeForm(forms.Form):
    """The poll a message may carry, as the compose form asks for it (add only)."""

    poll_question = forms.CharField(
        label=_("投票问题"),
        required=False,
        max_length=polls.QUESTION_MAX_LENGTH,
        help_text=_("留空表示不发起投票"),
    )
    poll_options = forms.CharField(
        label=_("投票选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个，%(min)s–%(max)s 个") % {"min": polls.MIN_OPTIONS, "max": polls.MAX_OPTIONS},
    )
    poll_multiple = forms.BooleanField(label=_("多选"), required=False)
    poll_max_choices = forms.IntegerField(
        label=_("最多选几项"),
        required=False,
        min_value=1,
        max_value=polls.MAX_OPTIONS,
        help_text=_("多选时有效，留空不限"),
    )
    poll_anonymous = forms.BooleanField(label=_("匿名投票"), required=False)
    poll_allow_change = forms.BooleanField(label=_("允许改票"), required=False, initial=True)
    poll_closes_at = forms.DateTimeField(
        label=_("投票截止时间"), required=False, help_text=_("留空表示不截止")
    )

    POLL_FIELDS = (
        "poll_question",
        "poll_options",
        ("poll_multiple", "poll_max_choices"),
        ("poll_anonymous", "poll_allow_change"),
        "poll_closes_at",
    )

    def poll_spec(self) -> dict | None:
        """``polls.poll_clean``'s arguments, or ``None`` when no poll was asked for."""
        data = getattr(self, "cleaned_data", {})
        if not (data.get("poll_question") or "").strip() and not (data.get("poll_options") or "").strip():
            return None
        return {
            "question": data.get("poll_question") or "",
            "options": (data.get("poll_options") or "").splitlines(),
            "multiple": bool(data.get("poll_multiple")),
            "max_choices": data.get("poll_max_choices") if data.get("poll_multiple") else None,
            "anonymous": bool(data.get("poll_anonymous")),
            "allow_change": bool(data.get("poll_allow_change")),
            "closes_at": data.get("poll_closes_at"),
        }

    def clean(self):
        data = super().clean()
        spec = self.poll_spec()
        if spec is not None:
            try:  # the service's rule, reported on the form (it decides again when sending)
                polls.poll_clean(**spec)
            except ApplicationError as exc:
                raise ValidationError({"poll_options": exc.message}) from exc
        return data
