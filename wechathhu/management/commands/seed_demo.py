"""Load realistic demo data; safe to run again (nothing is duplicated).

Each app contributes through ``<app>/demo.py``, which defines ``seed(out) -> list[str]``
(returning lines to print, e.g. demo logins). Apps are seeded in dependency order.
"""

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_APPS = (
    "accounts",
    "messaging",
    "reservations",
    "activities",
    "repairs",
    "guides",
    "official",
    "conversations",
)


class Command(BaseCommand):
    help = "载入演示数据（可重复执行）"

    def handle(self, *args, **options):
        notes: list[str] = []
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            with transaction.atomic():
                notes.extend(module.seed(self.stdout) or [])
            self.stdout.write(f"  ✓ {app}")
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
        for line in notes:
            self.stdout.write(line)
