"""Recompute every user's pinyin search and sort keys (after the surname readings change).

manage.py refresh_name_keys
"""

from django.core.management.base import BaseCommand

from accounts.services.names import user_refresh_all_name_keys


class Command(BaseCommand):
    help = "重新计算所有用户的姓名拼音与首字母（更新姓氏读音表后运行）"

    def handle(self, *args, **options):
        changed = user_refresh_all_name_keys()
        self.stdout.write(self.style.SUCCESS(f"已更新 {changed} 位用户的拼音。"))
