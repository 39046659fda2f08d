"""Rebuild the messages' full-text index (``messaging.search``) from their titles and contents."""

from django.core.management.base import BaseCommand

from messaging import search


class Command(BaseCommand):
    help = "重建消息全文检索索引（标题和内容的字符二元组）。"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="每个事务处理的消息数（默认 500）")

    def handle(self, *args, batch: int, **options):
        if not 1 <= batch <= 10000:
            self.stderr.write("--batch 须在 1–10000 之间。")
            return
        done = search.rebuild(
            batch=batch,
            progress=lambda n: self.stdout.write(f"已索引 {n} 条消息") if options["verbosity"] > 1 else None,
        )
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS(f"已重建 {done} 条消息的检索索引。"))
