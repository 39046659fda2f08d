"""DRF's exception handler, extended for our own error types and for transient outages.

* ``ApplicationError`` (raised by services) becomes its status and contract shape.
* Django's ``ValidationError`` (from ``full_clean()`` in services) becomes a DRF 400.
* A deadlock, lock-wait timeout, lost database connection or an unreachable Redis becomes a
  503 with a message asking to retry, instead of a 500: nothing was written half-way, since
  every service runs in one transaction.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from rest_framework import exceptions, status
from rest_framework.response import Response
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


def django_validation_error_data(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_data(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_error_data(exc))
    elif isinstance(exc, OverflowError):
        # A number too large for the database column (e.g. an id of 2**70): bad input, not a crash.
        exc = exceptions.ValidationError({"detail": "请求中的数值超出范围。"})
    elif is_transient_database_error(exc) or is_cache_outage(exc):
        logger.warning("Transient backend failure answered with 503: %r", exc)
        return Response(
            {"detail": SERVICE_BUSY}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "2"}
        )
    return drf_exception_handler(exc, context)
