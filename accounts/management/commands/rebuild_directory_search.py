"""Rebuild the directory search's index (``accounts.search``) from every user, e.g. after users
were written in bulk without their terms.

manage.py rebuild_directory_search
"""

from django.core.management.base import BaseCommand

from accounts import search


class Command(BaseCommand):
    help = "重建通讯录检索索引（批量写入用户后运行）"

    def handle(self, *args, **options):
        done = search.rebuild()
        self.stdout.write(self.style.SUCCESS(f"已为 {done} 位用户重建通讯录检索索引。"))
