"""gunicorn's settings for wechathhu.

gunicorn reads ``gunicorn.conf.py`` from its working directory, so every gunicorn started in the
checkout gets these: ``make deploy`` (deploy/supervisord.conf), the systemd unit
(deploy/systemd/wechathhu-web.service) and the benchmark. Options given on the command line win.

The values come from the environment or ``.env``, read by the portal's own reader (wechathhu/env.py):
``BIND``, ``WEB_CONCURRENCY``, ``GUNICORN_CONTROL_SOCKET``, ``VAR_DIR``; see .env.example.
"""

import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger as _GunicornLogger

BASE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BASE_DIR))

from wechathhu.env import Env, load_env_file  # noqa: E402 - needs BASE_DIR on the path
from wechathhu.logs import Formatter  # noqa: E402

load_env_file(BASE_DIR / ".env")
_env = Env()

wsgi_app = "wechathhu.wsgi:application"
bind = _env.list("BIND", default=["127.0.0.1:8000"])
workers = _env.int("WEB_CONCURRENCY", default=2 * (os.cpu_count() or 1) + 1)
# Long-polling (GET /api/v1/conversations/events, up to CONVERSATIONS_LONGPOLL_SECONDS) holds a worker
# for its wait: with it on, use threaded workers (GUNICORN_WORKER_CLASS=gthread, GUNICORN_THREADS=8),
# or set CONVERSATIONS_LONGPOLL_SECONDS=0 so clients poll plainly.
worker_class = _env("GUNICORN_WORKER_CLASS", default="sync")
threads = _env.int("GUNICORN_THREADS", default=1)
# A request taking longer than this is killed (its worker restarted); a stop lets running requests
# finish for graceful_timeout seconds.
timeout = 30
graceful_timeout = 30
# A control socket of this deployment's own: gunicorn's default is one path per user
# (~/.gunicorn/gunicorn.ctl), which a second gunicorn of the same user would take over.
control_socket = _env(
    "GUNICORN_CONTROL_SOCKET",
    default=str(Path(_env("VAR_DIR", default=str(BASE_DIR / "var"))) / "run" / "gunicorn.ctl"),
)
# Access log on standard output, one line per request (the time comes from the formatter).
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class Logger(_GunicornLogger):
    """gunicorn's logger with the project's time base (wechathhu.logs) on its lines."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(Formatter())


logger_class = Logger
