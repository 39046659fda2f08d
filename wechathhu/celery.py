"""The Celery application. Tasks live in each app's ``tasks.py``; periodic jobs are listed here."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wechathhu.settings")

app = Celery("wechathhu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(**kwargs):
    """Workers and beat log as the web processes do (settings.LOGGING: one time base, LOG_LEVEL),
    not with Celery's own handlers and format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def _add_worker_heartbeat():
    """Workers beat into Redis while connected to the broker; GET /health/ reads it (wechathhu.health)."""
    from wechathhu.health import WorkerHeartbeat

    app.steps["consumer"].add(WorkerHeartbeat)


_add_worker_heartbeat()

# Periodic jobs, defined in code in one place. django-celery-beat's DatabaseScheduler picks
# them up at start, so staff can also pause or re-time them in the admin.
app.conf.beat_schedule = {
    "outbox-sweep": {
        # every minute: https://crontab.guru/#*_*_*_*_* — everything sent to the outside world
        # (mail, WeChat) that is due and not on its way: broker outages, retries, dead workers.
        "task": "outbox.sweep",
        "schedule": crontab(),
    },
    "messaging-publish-due": {
        # every minute: https://crontab.guru/#*_*_*_*_*
        "task": "messaging.publish_due",
        "schedule": crontab(),
    },
    "messaging-send-reminders": {
        # every 5 minutes: https://crontab.guru/#*/5_*_*_*_* — read-aware second pushes
        "task": "messaging.send_reminders",
        "schedule": crontab(minute="*/5"),
    },
    "messaging-digest": {
        # every minute: https://crontab.guru/#*_*_*_*_* — the daily digests of this minute's subscribers
        "task": "messaging.digest_due",
        "schedule": crontab(),
    },
    "reservations-send-reminders": {
        # every 5 minutes: https://crontab.guru/#*/5_*_*_*_*
        "task": "reservations.send_reminders",
        "schedule": crontab(minute="*/5"),
    },
    "repairs-autoclose-solved": {
        # every day at 03:30: https://crontab.guru/#30_3_*_*_*
        "task": "repairs.autoclose_solved",
        "schedule": crontab(hour=3, minute=30),
    },
    "official-robot-followups-requeue": {
        # every 5 minutes: https://crontab.guru/#*/5_*_*_*_*
        "task": "official.robot_followups_requeue",
        "schedule": crontab(minute="*/5"),
    },
    "official-purge": {
        # every day at 04:10: https://crontab.guru/#10_4_*_*_*
        "task": "official.purge",
        "schedule": crontab(hour=4, minute=10),
    },
}
