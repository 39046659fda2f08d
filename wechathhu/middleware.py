"""The portal's middleware: Django's browser middleware skipped for token clients, and the
bench's optional diagnostics (``QUERY_COUNT_HEADER``, off by default)."""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.db import connections
from django.middleware import locale


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
