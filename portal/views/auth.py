"""登录、退出: password login with 工号/学号 (the API's throttles and its login check), signing out."""

from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.contrib import messages as flash
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views import View

from accounts.api.throttles import LoginRateThrottle, LoginUsernameRateThrottle
from accounts.services import login as login_services

from .. import services
from ..services import OFFICIAL_OPENID_KEY
from ..throttling import throttle_wait, wait_text
from .base import Page as _Page
from .base import PortalError, back_to, service_errors

LOGIN_THROTTLED = "登录尝试过于频繁，请稍后再试。"


class LoginForm(forms.Form):
    username = forms.CharField(
        label="工号/学号",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "off"}),
    )
    password = forms.CharField(
        label="密码",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)


class PublicPage(_Page):
    """A page for someone not signed in (login, claim)."""

    def dispatch(self, request, *args, **kwargs):
        return View.dispatch(self, request, *args, **kwargs)


def wechat_oauth_url(request) -> str | None:
    """Inside WeChat, the official account's page login (网页授权) signs a bound follower in
    without a password: send the browser there once. Not when the account is not configured, and
    not again once it came back without a bound user (its openid then waits in the session)."""
    if "MicroMessenger" not in request.META.get("HTTP_USER_AGENT", ""):
        return None
    if OFFICIAL_OPENID_KEY in request.session or request.GET.get("oauth") == "0":
        return None
    if not apps.is_installed("official"):
        return None
    if not import_string("wechathhu.integrations.official.is_enabled")():
        return None
    return f"{reverse('official:oauth-start')}?{urlencode({'next': back_to(request, '/m/')})}"


class LoginPage(PublicPage):
    template_name = "portal/auth/login.html"
    title = "登录"

    def get(self, request):
        if request.user.is_authenticated:
            return redirect(back_to(request, "/m/"))
        oauth = wechat_oauth_url(request)
        if oauth:
            return redirect(oauth)
        form = LoginForm(initial={"next": request.GET.get("next", "")})
        return self.render({"form": form})

    def post(self, request):
        form = LoginForm(request.POST)
        context = {"form": form}
        if not form.is_valid():
            return self.invalid(context)
        wait = throttle_wait(request, LoginRateThrottle, LoginUsernameRateThrottle)
        if wait is not None:
            form.add_error(None, f"{LOGIN_THROTTLED[:-1]}，请{wait_text(wait)}再试。")
            return self.render(context, status=429)
        data = form.cleaned_data
        try:
            with service_errors(form):
                user = login_services.user_check_password(
                    username=data["username"], password=data["password"], request=request
                )
        except PortalError:
            return self.invalid(context)
        started = services.page_session_start(request=request, user=user)
        if started.bind_error:
            flash.warning(request, f"已登录，但未能绑定微信：{started.bind_error}")
        return redirect(back_to(request, "/m/"))


class LogoutPage(View):
    """POST only: signing out is a change, never a link a crawler could follow."""

    def post(self, request):
        services.page_session_end(request=request)
        flash.success(request, "已退出登录。")
        return redirect("portal:login")
