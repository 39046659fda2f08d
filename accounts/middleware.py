"""The known-device cookie a browser gets when it logs in with the right password."""

from django.conf import settings

from .services.login import KNOWN_DEVICE_COOKIE_REQUEST_ATTR


class KnownDeviceCookieMiddleware:
    """Sets the cookie the login service asked for (``accounts/services/login.py``): whichever
    page logged the browser in (H5 portal, admin, /api-auth/), the service decides, this only
    carries its answer to the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        value = getattr(request, KNOWN_DEVICE_COOKIE_REQUEST_ATTR, None)
        if value:
            response.set_cookie(
                settings.ACCOUNTS_KNOWN_DEVICE_COOKIE,
                value,
                max_age=settings.ACCOUNTS_KNOWN_DEVICE_DAYS * 86400,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
