"""我的: my profile and password, my directory card and who sees each field, my avatar, and
the devices (API tokens) and browsers (sessions) signed in to my account, each with sign-out,
or all of them but this browser at once."""

from django import forms
from django.contrib import messages as flash
from django.shortcuts import redirect

from accounts import selectors as account_selectors
from accounts.api.serializers import avatar_url
from accounts.models import Department, User, Visibility
from accounts.services import avatars, tokens, users

from .. import selectors, services
from .base import Page, PortalError, service_errors


class ProfileForm(forms.Form):
    last_name = forms.CharField(label="姓", max_length=150)
    first_name = forms.CharField(label="名", max_length=30)
    email = forms.EmailField(
        label="电子邮箱", required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    department = forms.ModelChoiceField(
        label="系所", required=False, queryset=Department.objects.none(), empty_label="（无）"
    )
    old_password = forms.CharField(
        label="当前密码",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="修改密码时填写",
    )
    password = forms.CharField(
        label="新密码",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="不修改密码请留空",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = account_selectors.department_list()


VISIBILITY_CHOICES = Visibility.choices


class CardForm(forms.Form):
    post = forms.CharField(label="职位", required=False, max_length=255)
    post_visibility = forms.ChoiceField(label="职位谁可见", choices=VISIBILITY_CHOICES)
    phone = forms.CharField(
        label="手机",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    phone_visibility = forms.ChoiceField(label="手机谁可见", choices=VISIBILITY_CHOICES)
    tel = forms.CharField(
        label="办公电话", required=False, max_length=32, widget=forms.TextInput(attrs={"type": "tel"})
    )
    tel_visibility = forms.ChoiceField(label="办公电话谁可见", choices=VISIBILITY_CHOICES)
    email_visibility = forms.ChoiceField(label="电子邮箱谁可见", choices=VISIBILITY_CHOICES)
    qq = forms.CharField(label="QQ", required=False, max_length=32)
    qq_visibility = forms.ChoiceField(label="QQ 谁可见", choices=VISIBILITY_CHOICES)
    wechat = forms.CharField(label="微信号", required=False, max_length=255)
    wechat_visibility = forms.ChoiceField(label="微信号谁可见", choices=VISIBILITY_CHOICES)
    presence_visibility = forms.ChoiceField(
        label="在线状态谁可见", choices=VISIBILITY_CHOICES, required=False
    )
    description = forms.CharField(
        label="简介", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class AvatarForm(forms.Form):
    avatar = forms.FileField(
        label="新头像",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
        help_text="JPEG、PNG、GIF 或 WebP 图片，会裁成正方形",
    )


def _me(request) -> User:
    return account_selectors.user_get_current(user=request.user)


class MePage(Page):
    template_name = "portal/me/index.html"
    title = "我的"
    tab = "me"

    def get(self, request):
        user = _me(request)
        return self.render({"me": user, "avatar": avatar_url(user.pk, user.avatar and user.avatar.name)})


class ProfilePage(Page):
    template_name = "portal/me/form.html"
    title = "个人信息"
    tab = "me"

    def get(self, request):
        user = _me(request)
        form = ProfileForm(
            initial={
                "last_name": user.last_name,
                "first_name": user.first_name,
                "email": user.email,
                "department": user.department_id,
            }
        )
        return self.render({"form": form, "back": "/m/me/", "submit": "保存"})

    def post(self, request):
        form = ProfileForm(request.POST)
        context = {"form": form, "back": "/m/me/", "submit": "保存"}
        if not form.is_valid():
            return self.invalid(context)
        data = form.cleaned_data
        user = _me(request)
        try:
            with service_errors(form):
                if data["password"] or data["old_password"]:
                    users.user_change_password(
                        user=user, old_password=data["old_password"], new_password=data["password"]
                    )
                users.user_update(user=user, data=data, fields=users.PROFILE_FIELDS)
        except PortalError:
            return self.invalid(context)
        if data["password"]:
            from django.contrib.auth import update_session_auth_hash

            update_session_auth_hash(request, user)  # this browser stays signed in
        flash.success(request, "已保存。")
        return redirect("portal:me")


class CardPage(Page):
    template_name = "portal/me/form.html"
    title = "我的名片"
    tab = "me"

    def get(self, request):
        user = _me(request)
        initial = {name: getattr(user, name) for name in CardForm.base_fields}
        return self.render(
            {"form": CardForm(initial=initial), "back": "/m/me/", "submit": "保存", "card_help": True}
        )

    def post(self, request):
        form = CardForm(request.POST)
        context = {"form": form, "back": "/m/me/", "submit": "保存", "card_help": True}
        if not form.is_valid():
            return self.invalid(context)
        try:
            with service_errors(form):
                users.user_update(
                    user=_me(request),
                    data=form.cleaned_data,
                    fields=users.CARD_FIELDS + users.VISIBILITY_FIELDS,
                )
        except PortalError:
            return self.invalid(context)
        flash.success(request, "名片已保存。")
        return redirect("portal:me")


class AvatarPage(Page):
    template_name = "portal/me/avatar.html"
    title = "头像"
    tab = "me"

    def _context(self, request, form) -> dict:
        user = _me(request)
        return {
            "form": form,
            "back": "/m/me/",
            "avatar": avatar_url(user.pk, user.avatar and user.avatar.name),
            "me": user,
        }

    def get(self, request):
        return self.render(self._context(request, AvatarForm()))

    def post(self, request):
        if request.POST.get("remove"):
            avatars.user_remove_avatar(user=_me(request))
            flash.success(request, "已删除头像。")
            return redirect("portal:me")
        form = AvatarForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.invalid(self._context(request, form))
        try:
            with service_errors(form):
                avatars.user_set_avatar(user=_me(request), upload=form.cleaned_data["avatar"])
        except PortalError:
            return self.invalid(self._context(request, form))
        flash.success(request, "头像已更新。")
        return redirect("portal:me")


class DevicesPage(Page):
    template_name = "portal/me/devices.html"
    title = "登录设备"
    tab = "me"

    def get(self, request):
        return self.render(
            {
                "tokens": list(account_selectors.token_list_for_user(user=request.user)[:50]),
                "sessions": list(selectors.page_session_list(user=request.user)[:50]),
                "current_key": request.session.session_key,
                "back": "/m/me/",
            }
        )

    def post(self, request):
        kind, raw = request.POST.get("kind"), request.POST.get("id", "")
        pk = int(raw) if raw.isdigit() and len(raw) < 19 else None
        done = False
        if kind == "others":
            count = tokens.token_revoke_all(user=request.user) + services.page_session_revoke_others(
                user=request.user, keep_key=request.session.session_key
            )
            if count:
                flash.success(request, f"已让其他 {count} 台设备退出登录，只有本浏览器仍在登录。")
            else:
                flash.info(request, "没有其他设备在登录。")
            return redirect("portal:devices")
        if kind == "token" and pk is not None:
            token = account_selectors.token_list_for_user(user=request.user).filter(pk=pk).first()
            if token is not None:
                tokens.token_revoke(token=token)
                done = True
        elif kind == "session" and pk is not None:
            done = services.page_session_revoke(user=request.user, session_id=pk)
        if done:
            flash.success(request, "已让该设备退出登录。")
        else:
            flash.warning(request, "该设备已经退出登录。")
        return redirect("portal:devices")
