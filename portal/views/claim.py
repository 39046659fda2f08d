"""认领账号: an imported account taken over by its owner (工号/学号 + 姓名 + the initial password or
a staff-issued claim code), with the API's claim check and throttles, then signed in here."""

from django import forms
from django.contrib import messages as flash
from django.shortcuts import redirect

from accounts.api.throttles import LoginRateThrottle, LoginUsernameRateThrottle
from accounts.services import claims as claim_services

from .. import services
from ..throttling import throttle_wait, wait_text
from .auth import LOGIN_THROTTLED, PublicPage
from .base import PortalError, back_to, service_errors


class ClaimForm(forms.Form):
    username = forms.CharField(
        label="工号/学号", max_length=32, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    name = forms.CharField(
        label="姓名", max_length=180, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        label="初始密码",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="导入账号时设定的初始密码；没有时填写下面的认领码",
    )
    claim_code = forms.CharField(
        label="认领码", required=False, max_length=32, help_text="管理员发放的一次性认领码，如 ABCD-EFGH"
    )
    new_password = forms.CharField(
        label="新密码（可选）",
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="认领的同时设置自己的密码",
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)


class ClaimPage(PublicPage):
    template_name = "portal/auth/claim.html"
    title = "认领账号"

    def get(self, request):
        return self.render(
            {"form": ClaimForm(initial={"next": request.GET.get("next", "")}), "back": "/m/login/"}
        )

    def post(self, request):
        form = ClaimForm(request.POST)
        context = {"form": form, "back": "/m/login/"}
        if not form.is_valid():
            return self.invalid(context)
        wait = throttle_wait(request, LoginRateThrottle, LoginUsernameRateThrottle)
        if wait is not None:
            form.add_error(None, f"{LOGIN_THROTTLED[:-1]}，请{wait_text(wait)}再试。")
            return self.render(context, status=429)
        data = form.cleaned_data
        try:
            with service_errors(form):
                user = claim_services.user_claim_account(
                    username=data["username"],
                    name=data["name"],
                    password=data["password"] or None,
                    claim_code=data["claim_code"] or None,
                    new_password=data["new_password"] or None,
                )
        except PortalError:
            return self.invalid(context)
        started = services.page_session_start(request=request, user=user)
        if started.bind_error:
            flash.warning(request, f"已登录，但未能绑定微信：{started.bind_error}")
        flash.success(request, "认领成功，欢迎使用。")
        return redirect(back_to(request, "/m/"))
