"""Import users from an Excel (.xlsx) or CSV file, the same columns as the admin's import.

    manage.py import_users users.xlsx [--dry-run] [--batch-size 500]

Rows are matched by 工号/学号, so re-running the same file changes nothing. Errors are listed
with their row numbers; rows without errors are imported batch by batch.
"""

from pathlib import Path

import tablib
from django.core.management.base import BaseCommand, CommandError

from accounts.resources import UserResource


def load_dataset(path: Path) -> tablib.Dataset:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        with path.open("rb") as fh:
            return tablib.Dataset().load(fh.read(), format="xlsx")
    if suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        return tablib.Dataset().load(text, format="csv")
    raise CommandError("只支持 .xlsx 或 .csv 文件。")


class Command(BaseCommand):
    help = "从 Excel/CSV 文件导入用户（按工号/学号匹配，可重复执行）"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, file: Path, dry_run: bool, batch_size: int, **options):
        if not file.exists():
            raise CommandError(f"文件不存在：{file}")
        dataset = load_dataset(file)
        # First pass checks every row without writing; the file is imported only when it is
        # clean, so a bad row never leaves the import half-done.
        self.stdout.write("检查中…")
        totals, errors = self._run(dataset, batch_size, dry_run=True)
        for line in errors:
            self.stderr.write(line)
        if errors:
            raise CommandError(f"{len(errors)} 行有错误，未导入任何数据。")
        if not dry_run:
            self.stdout.write("导入中…")
            totals, _ = self._run(dataset, batch_size, dry_run=False)
        verb = "检查" if dry_run else "导入"
        self.stdout.write(
            f"{verb}完成：共 {len(dataset)} 行，新增 {totals['new']}，更新 {totals['update']}，未变 {totals['skip']}。"
        )

    def _run(self, dataset: tablib.Dataset, batch_size: int, *, dry_run: bool):
        total = len(dataset)
        totals = {"new": 0, "update": 0, "skip": 0}
        errors: list[str] = []
        resource = UserResource()
        for start in range(0, total, batch_size):
            chunk = tablib.Dataset(*dataset[start : start + batch_size], headers=dataset.headers)
            result = resource.import_data(chunk, dry_run=dry_run, raise_errors=False, use_transactions=True)
            for key in totals:
                totals[key] += result.totals.get(key, 0)
            for row_number, row_errors in result.row_errors():
                for error in row_errors:
                    errors.append(f"第 {start + row_number + 1} 行：{error.error}")
            for invalid in result.invalid_rows:
                messages = "; ".join(
                    f"{field}: {', '.join(map(str, msgs))}" for field, msgs in invalid.error_dict.items()
                )
                errors.append(f"第 {start + invalid.number + 1} 行：{messages}")
            self._progress(min(start + batch_size, total), total)
        if total:
            self.stdout.write("")
        return totals, errors

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        self.stdout.flush()
