"""The admin's and the browsable API's login forms: Django's, with the password checked by the
login service (``accounts/services/login.py``), so these pages count against the same per-address
and per-account limits as the API and the H5 portal, and a known browser passes a lockout."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from wechathhu.core.errors import ApplicationError

from .errors import AccountsErrorCode as Code
from .services.login import user_check_password


class ServiceCheckedLoginMixin:
    """``AuthenticationForm.clean`` with ``user_check_password`` in place of ``authenticate``."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = user_check_password(
                    username=username, password=password, request=self.request, browser=True
                )
            except ApplicationError as exc:
                if exc.code == Code.LOGIN_FAILED:
                    raise self.get_invalid_login_error() from exc
                raise ValidationError(exc.message, code=exc.code) from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class AdminLoginForm(ServiceCheckedLoginMixin, AdminAuthenticationForm):
    pass


class ApiAuthLoginForm(ServiceCheckedLoginMixin, AuthenticationForm):
    pass
