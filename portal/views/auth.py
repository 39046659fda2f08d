"""登录、退出: password login with 工号/学号 (the API's throttles and its login check), signing out."""

from contextlib import contextmanager
from urllib.parse import urlencode

from django import forms
from django.apps import apps
from django.contrib import messages as flash
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views import View

from accounts.errors import AccountsErrorCode
from accounts.services import login as login_services
from wechathhu.core.errors import RetryLaterError

from .. import services
from ..services import OFFICIAL_OPENID_KEY
from ..throttling import wait_text
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


class _LoginLimited(Exception):
    def __init__(self, error: RetryLaterError):
        super().__init__(error.message)
        self.error = error


@contextmanager
def _limits_answered_429():
    """A login limit is the page's 429, not a form's 400 (``service_errors`` would make it one)."""
    try:
        yield
    except RetryLaterError as exc:
        raise _LoginLimited(exc) from exc


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
        data = form.cleaned_data
        try:
            with service_errors(form), _limits_answered_429():
                user = login_services.user_check_password(
                    username=data["username"], password=data["password"], request=request, browser=True
                )
        except _LoginLimited as limited:  # the service's limits, per address and per account
            exc = limited.error
            message = exc.message
            if exc.code == AccountsErrorCode.LOGIN_THROTTLED:
                message = f"{LOGIN_THROTTLED[:-1]}，请{wait_text(exc.wait)}再试。"
            form.add_error(None, message)
            return self.render(context, status=429)
        except PortalError:
            return self.invalid(context)
        services.page_session_start(request=request, user=user)
        return redirect(back_to(request, "/m/"))


class LogoutPage(View):
    """POST only: signing out is a change, never a link a crawler could follow."""

    def post(self, request):
        services.page_session_end(request=request)
        flash.success(request, "已退出登录。")
        return redirect("portal:login")
