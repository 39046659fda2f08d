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
    is_archived = forms.ChoiceField(
        label="归档", required=False, choices=[("", "收件箱"), ("true", "已归档")]
    )


class ContactSearchForm(forms.Form):
    SCOPES = [("mine", "同事和好友"), ("all", "全部")]

    q = forms.CharField(
        label="搜索通讯录",
        required=False,
        max_length=200,
        help_text="姓名、拼音（全拼或首字母）、职位、系所或电话",
    )
    scope = forms.ChoiceField(label="范围", required=False, choices=SCOPES)
