"""Backups an operator can trust: the database and the uploaded files in one archive, consistent with
each other, and a restore into an empty deployment (``manage.py backup`` / ``manage.py restore``,
``make backup`` / ``make restore BACKUP=…``).

Consistency. The database is dumped from one snapshot (``mysqldump --single-transaction``; SQLite's
online backup), while the site keeps running. Uploaded files are written before the row that names
them commits and are never changed afterwards (a replaced avatar or guide gets a new name, the old file
is deleted after the commit), so the archive holds every file the snapshot can name when it takes
(1) a hard-link snapshot of ``MEDIA_ROOT`` *before* the database snapshot — files deleted later are
kept — and (2) after it, the files written in between. Files newer than the snapshot that no row names
yet are harmless extras.

The archive (``wechathhu-<time>.tar.gz``): ``manifest.json`` (what, when, from which engine, counts),
``database.sql`` (MySQL/MariaDB) or ``database.sqlite3``, and ``media/``. Redis holds nothing to back
up: caches, and a broker whose work the periodic re-sends rebuild from the database.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

FORMAT = 1
DUMP_COMPLETED = b"-- Dump completed"


class BackupError(Exception):
    """Something an operator must fix; the message says what."""


@dataclass
class Summary:
    path: Path
    engine: str
    media_files: int
    database_bytes: int


def _engine() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "mysql" in engine:
        return "mysql"
    if "sqlite" in engine:
        return "sqlite"
    raise BackupError(f"Backups cover MySQL/MariaDB and SQLite, not {engine}.")


def _client(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"{' or '.join(names)} is not installed (apt-get install mariadb-client).")


@contextmanager
def _mysql_options():
    """The connection options of the default database as a private option file (the password never
    appears on a command line) followed by the database name."""
    db = settings.DATABASES["default"]
    options = db.get("OPTIONS", {})
    lines = ["[client]", "default-character-set=utf8mb4"]
    if db.get("USER"):
        lines.append(f"user={db['USER']}")
    if db.get("PASSWORD"):
        escaped = db["PASSWORD"].replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'password="{escaped}"')
    if db.get("HOST", "").startswith("/"):
        lines.append(f"socket={db['HOST']}")
    elif db.get("HOST"):
        lines.append(f"host={db['HOST']}")
    if db.get("PORT"):
        lines.append(f"port={db['PORT']}")
    if options.get("unix_socket"):
        lines.append(f"socket={options['unix_socket']}")
    handle, path = tempfile.mkstemp(prefix="wechathhu-db-", suffix=".cnf")
    try:
        with os.fdopen(handle, "w") as file:
            file.write("\n".join(lines) + "\n")
        yield f"--defaults-extra-file={path}", db["NAME"]
    finally:
        os.unlink(path)


def _files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy will do
        shutil.copy2(source, target)


def _dump_mysql(target: Path) -> None:
    dump = _client("mariadb-dump", "mysqldump")
    with _mysql_options() as (option_file, name), target.open("wb") as out:
        result = subprocess.run(  # noqa: S603 - the installed client, arguments of our own
            [
                dump,
                option_file,
                "--single-transaction",
                "--quick",
                "--no-tablespaces",
                "--hex-blob",
                "--skip-lock-tables",
                name,
            ],
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(f"{Path(dump).name} failed: {result.stderr.decode(errors='replace').strip()}")
    with target.open("rb") as file:
        file.seek(max(0, target.stat().st_size - 200))
        if DUMP_COMPLETED not in file.read():
            raise BackupError(f"{Path(dump).name} stopped before the end of the dump.")


def _dump_sqlite(target: Path) -> None:
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def backup(*, output: Path | str | None = None) -> Summary:
    """Write one archive of the database and the uploaded files; returns where and what."""
    engine = _engine()
    media = Path(settings.MEDIA_ROOT)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    output = Path(output) if output is not None else None
    if output is None:
        output = Path(settings.VAR_DIR) / "backups" / f"wechathhu-{stamp}.tar.gz"
    elif output.is_dir():
        output = output / f"wechathhu-{stamp}.tar.gz"
    output.parent.mkdir(parents=True, exist_ok=True)
    # Staged next to the archive (hard links need the same file system as MEDIA_ROOT; else copies).
    with tempfile.TemporaryDirectory(prefix=".wechathhu-backup-", dir=output.parent) as staging:
        staged = Path(staging)
        for relative in _files(media):  # (1) before the database snapshot
            _link_or_copy(media / relative, staged / "media" / relative)
        database = staged / ("database.sql" if engine == "mysql" else "database.sqlite3")
        _dump_mysql(database) if engine == "mysql" else _dump_sqlite(database)
        for relative in _files(media):  # (2) written while the snapshot was taken
            if not (staged / "media" / relative).exists():
                _link_or_copy(media / relative, staged / "media" / relative)
        media_files = len(_files(staged / "media"))
        manifest = {
            "format": FORMAT,
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "engine": engine,
            "database": str(settings.DATABASES["default"]["NAME"]),
            "database_file": database.name,
            "media_files": media_files,
        }
        (staged / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(staged / "manifest.json", arcname="manifest.json")
            archive.add(database, arcname=database.name)
            if (staged / "media").is_dir():
                archive.add(staged / "media", arcname="media")
        with tarfile.open(partial, "r:gz") as written:  # readable to its end
            written.getmembers()
        partial.replace(output)  # a half-written archive never carries the final name
        database_bytes = database.stat().st_size
    return Summary(output, engine, media_files, database_bytes)


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.extractfile("manifest.json")
    except KeyError:
        member = None
    if member is None:
        raise BackupError("Not a wechathhu backup: the archive has no manifest.json.")
    manifest = json.loads(member.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r} (this version reads {FORMAT}).")
    return manifest


def _ensure_empty_deployment(engine: str) -> None:
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(
            f"The database {settings.DATABASES['default']['NAME']} is not empty ({len(tables)} tables): "
            'restore into an empty database (DROP DATABASE …; CREATE DATABASE …, README "Backups").'
        )
    media = Path(settings.MEDIA_ROOT)
    if _files(media):
        raise BackupError(f"MEDIA_ROOT ({media}) already holds files: restore into an empty folder.")


def restore(path: Path | str) -> dict:
    """Restore an archive of ``backup()`` into this deployment's empty database and MEDIA_ROOT."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    engine = _engine()
    with tarfile.open(path, "r:*") as archive:
        manifest = _read_manifest(archive)
        if manifest["engine"] != engine:
            raise BackupError(
                f"The backup is of a {manifest['engine']} database; this deployment uses {engine}."
            )
        _ensure_empty_deployment(engine)
        with tempfile.TemporaryDirectory(prefix=".wechathhu-restore-", dir=path.parent) as staging:
            staged = Path(staging)
            # filter="data": nothing outside the folder, no devices or links (a tampered archive).
            archive.extractall(staged, filter="data")
            database = staged / manifest["database_file"]
            if engine == "mysql":
                connection.close()
                _load_mysql(database)
            else:
                connection.close()
                target = Path(settings.DATABASES["default"]["NAME"])
                for journal in (
                    target.with_name(target.name + "-wal"),
                    target.with_name(target.name + "-shm"),
                ):
                    journal.unlink(missing_ok=True)  # the empty database's, never to be replayed
                shutil.copyfile(database, target)
            media = Path(settings.MEDIA_ROOT)
            media.mkdir(parents=True, exist_ok=True)
            restored = 0
            for relative in _files(staged / "media"):
                (media / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(staged / "media" / relative, media / relative)
                restored += 1
    if restored != manifest["media_files"]:
        raise BackupError(f"{manifest['media_files']} files were backed up but {restored} restored.")
    return manifest


def _load_mysql(database: Path) -> None:
    client = _client("mariadb", "mysql")
    with _mysql_options() as (option_file, name), database.open("rb") as dump:
        result = subprocess.run(  # noqa: S603 - the installed client, arguments of our own
            [client, option_file, name], stdin=dump, capture_output=True, check=False
        )
    if result.returncode != 0:
        raise BackupError(f"{Path(client).name} failed: {result.stderr.decode(errors='replace').strip()}")
