"""Forms of the portal: they parse what a page sends (types and sizes, as the API's serializers
do) and render it accessibly. Every rule beyond that is the service's: a form never decides."""

from django import forms

from messaging.models import MessagePriority, MessageType

SEARCH_MAX = 100


class SearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=SEARCH_MAX)


class InboxFilterForm(forms.Form):
    """The inbox's filters; the values are seed 001's list parameters, checked by its selector."""

    STATES = [("", "全部"), ("false", "未读"), ("true", "已读")]

    search = forms.CharField(label="搜索消息", required=False, max_length=SEARCH_MAX)
    is_read = forms.ChoiceField(label="状态", required=False, choices=STATES)
    type = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *MessageType.choices])
    priority = forms.ChoiceField(
        label="优先级", required=False, choices=[("", "全部优先级"), *MessagePriority.choices]
    )
    category_id = forms.TypedChoiceField(label="分类", required=False, coerce=int, empty_value=None)
    is_archived = forms.ChoiceField(
        label="归档", required=False, choices=[("", "收件箱"), ("true", "已归档")]
    )

    def __init__(self, *args, **kwargs):
        from messaging.categories import category_list

        super().__init__(*args, **kwargs)
        self.fields["category_id"].choices = [("", "全部分类"), *((c.pk, c.name) for c in category_list())]


class PreferencesForm(forms.Form):
    """消息设置: the categories pushed to me, quiet hours, channel and daily digest (checked by
    ``messaging.preferences``)."""

    followed = forms.MultipleChoiceField(
        label="推送这些分类的消息",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不勾选的分类只在站内显示，不推送到微信或邮件；紧急消息总会推送。",
    )
    quiet_hours_start = forms.TimeField(
        label="免打扰开始", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_hours_end = forms.TimeField(
        label="免打扰结束", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    preferred_channel = forms.ChoiceField(label="推送方式", choices=())
    digest_enabled = forms.BooleanField(label="每天一封摘要", required=False)
    digest_time = forms.TimeField(
        label="摘要时间", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def __init__(self, *args, categories=(), **kwargs):
        from messaging.models import PreferredChannel

        super().__init__(*args, **kwargs)
        self.categories = list(categories)
        self.fields["followed"].choices = [(str(c["id"]), c["name"]) for c in self.categories]
        self.fields["preferred_channel"].choices = PreferredChannel.choices


class ContactSearchForm(forms.Form):
    SCOPES = [("mine", "同事和好友"), ("all", "全部")]

    q = forms.CharField(
        label="搜索通讯录",
        required=False,
        max_length=200,
        help_text="姓名、拼音（全拼或首字母）、职位、系所或电话",
    )
    scope = forms.ChoiceField(label="范围", required=False, choices=SCOPES)
