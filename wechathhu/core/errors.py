"""The exceptions services raise for a rule the caller broke, each with a machine ``code``.

Clients branch on the code, never on the message: every error answer carries it as
``error_code`` (``wechathhu/api/exceptions.py``). The codes a service raises are listed in its
app's ``errors.py``.

* ``ApplicationError(message, code=…)`` is about the request as a whole and is answered
  ``{"detail": message}`` (status 400 unless given);
* with ``field="name"`` it is about one input field, answered ``{"name": [message]}``; with
  ``field=NON_FIELD_ERRORS`` (Django's constant) it is about the input as a whole, answered under
  DRF's non-field key (``non_field_errors``). Both go through DRF's own ``as_serializer_error``,
  exactly like a Django ``ValidationError`` raised by ``full_clean()``;
* ``ForbiddenError`` (403) and ``NotFoundError`` (404) are the same with their status;
  ``RetryLaterError`` (429) adds the seconds to wait (``Retry-After``).

``extra`` adds keys to the answer (e.g. the dates a recurring booking clashes on).
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

__all__ = ["NON_FIELD_ERRORS", "ApplicationError", "ForbiddenError", "NotFoundError", "RetryLaterError"]


class ApplicationError(Exception):
    def __init__(self, message, *, code, field=None, status=400, extra=None):
        super().__init__(message)
        self.message = str(message)
        self.code = str(code)
        self.field = field
        self.status = status
        self.extra = extra or {}

    def as_validation_error(self) -> ValidationError | None:
        """A field or non-field error as Django's ``ValidationError``; ``None`` for a ``detail`` one."""
        if self.field is None:
            return None
        error = ValidationError(self.message, code=self.code)
        return error if self.field == NON_FIELD_ERRORS else ValidationError({self.field: error})


class ForbiddenError(ApplicationError):
    def __init__(self, message="您没有执行该操作的权限。", **kwargs):
        kwargs.setdefault("status", 403)
        kwargs.setdefault("code", "permission_denied")
        super().__init__(message, **kwargs)


class NotFoundError(ApplicationError):
    def __init__(self, message="未找到。", **kwargs):
        kwargs.setdefault("status", 404)
        kwargs.setdefault("code", "not_found")
        super().__init__(message, **kwargs)


class RetryLaterError(ApplicationError):
    """429: a limit was reached; ``wait`` seconds until it lets the caller through again (sent as
    ``Retry-After``)."""

    def __init__(self, message, *, wait: float | None = None, **kwargs):
        kwargs.setdefault("status", 429)
        kwargs.setdefault("code", "throttled")
        super().__init__(message, **kwargs)
        self.wait = wait
