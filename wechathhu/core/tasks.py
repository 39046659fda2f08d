"""Queueing Celery tasks from services: by name, after commit, never failing the caller.

Services never import their app's ``tasks`` module (tasks import services, one direction only):
they name the task. A broker outage is logged and swallowed — whatever the task was to do is
recorded in the database (a marker column or an outbox row) where a periodic job finds it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)


def enqueue(name: str, *, countdown: float | None = None, **kwargs) -> bool:
    """Queue task ``name`` with keyword arguments now; False (logged) when the broker is down.

    The publish uses a connection without reconnect retries, so an unreachable broker costs one
    connection timeout (``CELERY_BROKER_CONNECTION_TIMEOUT``), not a series of them.
    """
    from wechathhu.celery import app

    if name not in app.tasks:
        # Web processes never import the apps' tasks modules themselves: let Celery find them.
        app.loader.import_default_modules()
    task = app.tasks[name]
    if app.conf.task_always_eager:
        task.apply_async(kwargs=kwargs)
        return True
    options = {**(app.conf.broker_transport_options or {}), "max_retries": 0}
    try:
        with app.connection_for_write(transport_options=options) as connection:
            task.apply_async(kwargs=kwargs, countdown=countdown, retry=False, connection=connection)
    except (KombuError, OSError) as exc:
        logger.warning(
            "Task %s not queued (broker unreachable: %r); the periodic job will pick it up", name, exc
        )
        return False
    return True


def enqueue_many(name: str, calls: Iterable[dict], *, countdown: float | None = None) -> int:
    """Queue task ``name`` once per keyword-argument dict of ``calls`` over ONE broker connection
    and producer (a fan-out's hundreds of tasks cost one connection, not hundreds). Returns how
    many were queued: those before a broker failure, which is logged and swallowed as in
    :func:`enqueue` (the periodic job picks up the rest)."""
    from wechathhu.celery import app

    calls = list(calls)
    if not calls:
        return 0
    if name not in app.tasks:
        app.loader.import_default_modules()
    task = app.tasks[name]
    if app.conf.task_always_eager:
        for kwargs in calls:
            task.apply_async(kwargs=kwargs)
        return len(calls)
    options = {**(app.conf.broker_transport_options or {}), "max_retries": 0}
    queued = 0
    try:
        with app.connection_for_write(transport_options=options) as connection:
            producer = app.amqp.Producer(connection)
            for kwargs in calls:
                task.apply_async(kwargs=kwargs, countdown=countdown, retry=False, producer=producer)
                queued += 1
    except (KombuError, OSError) as exc:
        logger.warning(
            "Task %s: %s of %s not queued (broker unreachable: %r); the periodic job will pick them up",
            name,
            len(calls) - queued,
            len(calls),
            exc,
        )
    return queued


def enqueue_on_commit(name: str, **kwargs) -> None:
    """Queue task ``name`` once the current transaction commits (never, if it rolls back)."""
    transaction.on_commit(lambda: enqueue(name, **kwargs))
