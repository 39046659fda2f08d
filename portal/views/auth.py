"""登录、退出: password login with 工号/学号 (the API's throttles and its login check), signing out."""

from django import forms
from django.contrib import messages as flash
from django.shortcuts import redirect
from django.views import View

from accounts.api.throttles import LoginRateThrottle, LoginUsernameRateThrottle
from accounts.services import login as login_services

from .. import services
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


class LoginPage(PublicPage):
    template_name = "portal/auth/login.html"
    title = "登录"

    def get(self, request):
        if request.user.is_authenticated:
            return redirect(back_to(request, "/m/"))
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
        services.page_session_start(request=request, user=user)
        return redirect(back_to(request, "/m/"))


class LogoutPage(View):
    """POST only: signing out is a change, never a link a crawler could follow."""

    def post(self, request):
        services.page_session_end(request=request)
        flash.success(request, "已退出登录。")
        return redirect("portal:login")
