"""What ``GET /health/`` checks: the database, Redis and a Celery worker.

A worker proves it is alive with a heartbeat: while its consumer is connected to the broker it writes
``WORKER_HEARTBEAT_KEY`` to the cache (Redis) every ``WORKER_HEARTBEAT_SECONDS``, with a time-to-live of
three beats. ``/health/`` reads that one key, so a probe costs one cache read whatever the number of
workers, and reports the worker down within ``WORKER_HEARTBEAT_TTL`` seconds of the last one stopping.
"""

import logging
import socket
import time

from celery import bootsteps
from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

WORKER_HEARTBEAT_KEY = "health:worker"
WORKER_HEARTBEAT_SECONDS = 10
WORKER_HEARTBEAT_TTL = 3 * WORKER_HEARTBEAT_SECONDS

OK, DOWN, OFF = "ok", "down", "off"


def worker_heartbeat(hostname: str) -> None:
    try:
        cache.set(WORKER_HEARTBEAT_KEY, {"hostname": hostname, "at": time.time()}, WORKER_HEARTBEAT_TTL)
    except Exception:  # Redis away: /health/ says so; the worker itself goes on
        logger.warning("worker heartbeat: the cache is unreachable", exc_info=True)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """A step of the worker's consumer: beats while the worker is connected to the broker."""

    requires = {"celery.worker.consumer.connection:Connection"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.entry = None

    def start(self, parent):
        hostname = getattr(parent, "hostname", None) or socket.gethostname()
        worker_heartbeat(hostname)
        self.entry = parent.timer.call_repeatedly(WORKER_HEARTBEAT_SECONDS, worker_heartbeat, (hostname,))

    def stop(self, parent):
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None

    shutdown = stop


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure means "down"; the log has the reason
        logger.warning("health: the database is unreachable", exc_info=True)
        return DOWN
    return OK


def check_redis_and_worker(*, with_worker: bool) -> tuple[str, str]:
    """Redis (one read of the worker's heartbeat) and, when tasks go to workers, the heartbeat's age."""
    if not settings.REDIS_URL:
        redis_state, beat = OFF, None
    else:
        try:
            beat = cache.get(WORKER_HEARTBEAT_KEY)
        except Exception:  # Redis away or refusing: "down"
            logger.warning("health: Redis is unreachable", exc_info=True)
            return DOWN, DOWN if with_worker and not settings.CELERY_TASK_ALWAYS_EAGER else OFF
        redis_state = OK
    if not with_worker or settings.CELERY_TASK_ALWAYS_EAGER:
        return redis_state, OFF  # tasks run in the web process itself (the embedded default)
    fresh = isinstance(beat, dict) and time.time() - beat.get("at", 0) <= WORKER_HEARTBEAT_TTL
    return redis_state, OK if fresh else DOWN


def health(*, scope: str = "all") -> dict[str, str]:
    """The state of each part; ``status`` is "ok" when none is down. ``scope="web"``: only what this
    web process needs to serve (database and Redis), for load balancers."""
    database = check_database()
    redis_state, worker = check_redis_and_worker(with_worker=scope != "web")
    parts = {"database": database, "redis": redis_state, "worker": worker}
    return {"status": DOWN if DOWN in parts.values() else OK, **parts}
