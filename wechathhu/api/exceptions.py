"""DRF's exception handler, extended for our own error types and for transient outages.

* ``ApplicationError`` (raised by services) becomes its status and contract shape.
* Django's ``ValidationError`` (from ``full_clean()`` in services) becomes a DRF 400, through
  DRF's own ``as_serializer_error``.
* A deadlock, lock-wait timeout, lost database connection or an unreachable Redis becomes a
  503 with a message asking to retry, instead of a 500: nothing was written half-way, since
  every service runs in one transaction.

Every error answer carries its machine code as ``error_code``, added after the keys the
contract defines (``{"detail": …, "error_code": "not_found"}``; with field errors, the code of the
first one): the service's ``ApplicationError.code`` (listed in each app's ``errors.py``) or DRF's
own (``required``, ``invalid``, ``not_authenticated``, ``throttled`` …). The ``/api/v1/`` envelope
moves it next to ``code`` (``wechathhu/api/renderers.py``).
"""

import logging
import math

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from wechathhu.core.errors import ApplicationError

logger = logging.getLogger(__name__)

# MySQL/MariaDB error codes that mean "try again": deadlock, lock wait timeout, server gone.
TRANSIENT_MYSQL_CODES = {1205, 1213, 2002, 2003, 2006, 2013}
SERVICE_BUSY = "服务繁忙，请稍后重试。"


def is_transient_database_error(exc: BaseException) -> bool:
    if not isinstance(exc, DatabaseError):
        return False
    cause = exc.__cause__ or exc
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int) and args[0] in TRANSIENT_MYSQL_CODES:
        return True
    return "database is locked" in str(exc)


def is_cache_outage(exc: BaseException) -> bool:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a hard dependency
        return False
    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


ERROR_CODE_KEY = "error_code"
SERVICE_BUSY_CODE = "service_unavailable"


def validation_error_data(exc: DjangoValidationError) -> dict:
    """A Django ``ValidationError`` as DRF's serializer errors (codes kept), Django's ``__all__``
    under DRF's non-field key."""
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value
        for key, value in as_serializer_error(exc).items()
    }


def first_code(codes) -> str | None:
    """The code of the first error in DRF's ``get_codes()`` structure (the one the envelope's
    ``message`` shows)."""
    if isinstance(codes, dict):
        codes = codes.values()
    elif not isinstance(codes, list | tuple):
        return str(codes) if codes else None
    for value in codes:
        found = first_code(value)
        if found:
            return found
    return None


def _with_code(response: Response, code: str | None) -> Response:
    if code and isinstance(response.data, dict) and ERROR_CODE_KEY not in response.data:
        response.data[ERROR_CODE_KEY] = code
    return response


def _application_error_response(exc: ApplicationError) -> Response:
    validation_error = exc.as_validation_error()
    data = {"detail": exc.message} if validation_error is None else validation_error_data(validation_error)
    data.update(exc.extra)
    wait = getattr(exc, "wait", None)
    headers = {"Retry-After": str(math.ceil(wait))} if wait else None
    return _with_code(Response(data, status=exc.status, headers=headers), exc.code)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return _application_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_data(exc))
    elif isinstance(exc, OverflowError):
        # A number too large for the database column (e.g. an id of 2**70): bad input, not a crash.
        exc = exceptions.ValidationError({"detail": "请求中的数值超出范围。"}, code="out_of_range")
    elif is_transient_database_error(exc) or is_cache_outage(exc):
        logger.warning("Transient backend failure answered with 503: %r", exc)
        response = Response(
            {"detail": SERVICE_BUSY}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "2"}
        )
        return _with_code(response, SERVICE_BUSY_CODE)
    elif isinstance(exc, Http404):  # as DRF's handler does, but here so the code is known
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        _with_code(response, first_code(exc.get_codes()))
    return response
