"""The one exception services raise for a rule the caller broke.

The API layer turns it into the shape each contract expects: ``{"detail": msg}``,
``{"non_field_errors": [msg]}`` or ``{field: [msg]}`` for the mini-program, and the
``{code, message, data, timestamp}`` envelope under ``/api/v1/``.
"""


class ApplicationError(Exception):
    def __init__(self, message, *, field=None, code="invalid", status=400, extra=None):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.code = code
        self.status = status
        self.extra = extra or {}

    def as_data(self):
        if self.field is None:
            data = {"detail": self.message}
        else:
            data = {self.field: [self.message]}
        data.update(self.extra)
        return data


class PermissionDenied(ApplicationError):
    def __init__(self, message="您没有执行该操作的权限。", **kwargs):
        kwargs.setdefault("status", 403)
        kwargs.setdefault("code", "permission_denied")
        super().__init__(message, **kwargs)


class NotFound(ApplicationError):
    def __init__(self, message="未找到。", **kwargs):
        kwargs.setdefault("status", 404)
        kwargs.setdefault("code", "not_found")
        super().__init__(message, **kwargs)
