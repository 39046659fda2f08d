"""One time base for every log line the deployment writes.

Gunicorn's master logs before Django sets the process's time zone (UTC), gunicorn's access log has
its own ``[07/Dec/2026:08:08:00 +0000]``, and Python's default ``asctime`` is local time without an
offset: three time bases for one incident. This formatter writes the project's time zone with its
offset (``2026-12-07 16:08:00.123+08:00``) whatever the process's own zone; Django's ``LOGGING``, Celery
(``wechathhu/celery.py``) and ``gunicorn.conf.py`` all use it.

Importable without Django settings (gunicorn's master loads it first).
"""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

# settings.TIME_ZONE (a test keeps the two equal).
TIME_ZONE = "Asia/Shanghai"
FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


class Formatter(logging.Formatter):
    zone = ZoneInfo(TIME_ZONE)

    def __init__(self, fmt: str | None = FORMAT, datefmt: str | None = None, style: str = "%", **kwargs):
        super().__init__(fmt or FORMAT, datefmt, style, **kwargs)

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's method name
        moment = datetime.fromtimestamp(record.created, tz=self.zone)
        if datefmt:
            return moment.strftime(datefmt)
        return moment.isoformat(sep=" ", timespec="milliseconds")
