"""Django's MySQL/MariaDB backend with the connection health check at most every
``DB_HEALTH_CHECK_INTERVAL`` seconds instead of before every request (issue 18).

``CONN_HEALTH_CHECKS`` pings a persistent connection before the first query of each request: a
round trip to the server, as long as the query itself, so a one-query request (departments,
repair categories) paid two. Here a connection that was opened or checked within the interval is
taken as alive. What that gives up: a connection the server dropped less than the interval after
its last check fails one request (with the usual database error, 500), and Django closes it
at the end of that request (its ``errors_occurred`` check), as it would without health checks;
after a server restart, which takes longer than the interval, every connection is checked again.
``DB_HEALTH_CHECK_INTERVAL=0`` is Django's behaviour: a check before every request.
"""

import time

from django.conf import settings
from django.db.backends.mysql import base


class DatabaseWrapper(base.DatabaseWrapper):
    health_checked_at = float("-inf")

    def connect(self):
        super().connect()
        self.health_checked_at = time.monotonic()

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self.health_checked_at < settings.DB_HEALTH_CHECK_INTERVAL
        ):
            self.health_check_done = True
            return
        checking = not self.health_check_done
        super().close_if_health_check_failed()
        if checking and self.connection is not None:
            self.health_checked_at = time.monotonic()
