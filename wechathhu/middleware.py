"""The portal's middleware: Django's browser middleware skipped for token clients, and the
bench's optional diagnostics (``QUERY_COUNT_HEADER``, off by default)."""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.db import connections
from django.http import HttpResponseBadRequest, JsonResponse
from django.middleware import locale
from django.urls import is_valid_path


class QueryCountHeaderMiddleware:
    """Adds ``X-Query-Count``: the number of SQL statements the request ran (used by bench/).

    A connection is opened before counting starts, so the statements a new connection runs to set
    itself up (time zone, isolation level) are not counted: the figure is the request's own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        for alias in connections:
            connections[alias].ensure_connection()
        wrappers = [connections[alias].execute_wrapper(counter) for alias in connections]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        response["X-Query-Count"] = str(count)
        return response


# --- What a token client needs, and no more -----------------------------------------------------

_TOKEN_SCHEMES = ("token ", "bearer ")
# Pages a browser uses with its session: always the whole middleware stack.
_SESSION_PATHS = ("/admin/", "/api-auth/", "/m/", "/wechat/")  # admin, DRF login, H5 portal, WeChat OAuth


def is_token_request(request) -> bool:
    """A request that authenticates with ``Authorization: Token|Bearer <key>`` outside the admin
    and the browsable API's login: the mini-program and seed 001's clients. It needs no session,
    no login from a session, no flash messages and no language negotiation (the portal speaks
    only ``LANGUAGE_CODE``, which is what every translation falls back to). Decided once per
    request."""
    try:
        return request._token_request
    except AttributeError:
        header = request.META.get("HTTP_AUTHORIZATION", "")[:7].lower()
        request._token_request = header.startswith(_TOKEN_SCHEMES) and not request.path_info.startswith(
            _SESSION_PATHS
        )
        return request._token_request


class BrowserOnlyMiddleware:
    """Mixed into a Django middleware: a token request passes straight through it."""

    def __call__(self, request):
        if is_token_request(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(BrowserOnlyMiddleware, sessions.SessionMiddleware):
    pass


class LocaleMiddleware(BrowserOnlyMiddleware, locale.LocaleMiddleware):
    pass


class AuthenticationMiddleware(BrowserOnlyMiddleware, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(BrowserOnlyMiddleware, messages.MessageMiddleware):
    pass


class TrailingSlashMiddleware:
    """Every path answers the same with or without its trailing slash (issue 16 item 4).

    Django's ``APPEND_SLASH`` redirects a path that only resolves with the slash: a 301 that
    drops a POST's body (and a RuntimeError, a 500, under DEBUG). Here such a request is served
    by the slashed path directly, and a path that only resolves without its slash (seed 001's
    ``/api/v1/…``) by the bare one. Browser pages (the admin, the portal) keep Django's redirect
    for GET, so their relative links stay right.
    """

    BROWSER_PREFIXES = ("/admin/", "/m/", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not (
            request.method in ("GET", "HEAD") and (path + "/").startswith(self.BROWSER_PREFIXES)
        ) and not is_valid_path(path, getattr(request, "urlconf", None)):
            other = path[:-1] if path.endswith("/") else path + "/"
            if other != "" and is_valid_path(other, getattr(request, "urlconf", None)):
                request.path_info = other
                request.path = request.path.removesuffix(path) + other
        return self.get_response(request)


OUT_OF_RANGE = "请求中的数值或日期超出范围。"


class OutOfRangeMiddleware:
    """Bad input that surfaces deep in Django's admin is a 400, not a 500. A number or date beyond what the database or Python's calendar can hold is bad input, a 400,
    wherever it surfaces (issue 16 item 20): an id of 25 digits bound to SQLite's 64-bit INTEGER,
    ``created_at__gte=0001-01-01`` turned to UTC, a date hierarchy's year 9999 plus one. Django's
    admin filters and lookups reach the database with such values before any form sees them; the
    API's own handler does the same for DRF views (``wechathhu.api.exceptions``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib.admin.options import IncorrectLookupParameters

        if isinstance(exception, IncorrectLookupParameters):
            # An admin page other than the changelist (an export) built from the list's filters:
            # the changelist answers such parameters with ?e=1, these with a 400.
            return HttpResponseBadRequest(
                "<!doctype html><title>筛选条件不合法</title><h1>400</h1><p>筛选条件不合法，请返回列表重新选择。</p>"
            )
        if not isinstance(exception, OverflowError):
            return None
        if request.path.startswith("/api/"):
            from wechathhu.api.renderers import envelope

            body = envelope({"detail": OUT_OF_RANGE, "error_code": "out_of_range"}, status_code=400)
            return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        if not request.path.startswith("/admin/") and not request.path.startswith("/m/"):
            return JsonResponse({"detail": OUT_OF_RANGE, "error_code": "out_of_range"}, status=400)
        return HttpResponseBadRequest(
            f"<!doctype html><title>{OUT_OF_RANGE}</title><h1>400</h1><p>{OUT_OF_RANGE}请返回上一页修改后重试。</p>"
        )
