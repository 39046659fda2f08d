"""The processes of a one-machine deployment under supervisord (deploy/supervisord.conf).

``manage.py stack start`` (what ``make deploy`` runs after migrating) replaces itself with supervisord,
which runs gunicorn, a Celery worker and Celery beat, restarts whichever exits, and on ``stack stop``
(``make stop``), SIGTERM or Ctrl+C stops them gracefully and exits 0. ``python -m wechathhu.stack
events`` is supervisord's event listener: it logs every state change in the project's log format.
"""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

CONF = Path(__file__).resolve().parent.parent / "deploy" / "supervisord.conf"
PROGRAMS = ("web", "worker", "beat")


def bin_dir() -> Path:
    """The virtualenv's bin/ (that of the Python running this)."""
    return Path(sys.executable).parent


def run_dir() -> Path:
    return Path(settings.VAR_DIR) / "run"


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "STACK_ROOT": str(settings.BASE_DIR),
        "STACK_BIN": str(bin_dir()),
        "STACK_RUN_DIR": str(run_dir()),
    }


def pid() -> int | None:
    """supervisord's pid while it runs, else None."""
    try:
        number = int((run_dir() / "supervisord.pid").read_text().strip())
        os.kill(number, 0)
    except (OSError, ValueError):
        return None
    return number


def exec_supervisord() -> None:
    run_dir().mkdir(parents=True, exist_ok=True)
    command = [str(bin_dir() / "supervisord"), "-c", str(CONF)]
    os.execve(command[0], command, environment())  # noqa: S606 - our own supervisord, fixed arguments


def supervisorctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own supervisorctl, fixed arguments
        [str(bin_dir() / "supervisorctl"), "-c", str(CONF), *args],
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def _running(number: int) -> bool:
    """Whether process ``number`` still runs. An exited process whose parent has not collected it
    yet (a zombie: ``manage.py stack start`` replaced by supervisord under a launcher that waits
    for it only later) has stopped, although ``kill(pid, 0)`` still finds it."""
    try:
        os.kill(number, 0)
    except OSError:
        return False
    try:
        state = Path(f"/proc/{number}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): kill(0) is all there is
    return state not in ("Z", "X")


def stop(*, timeout: float = 180) -> bool:
    """Ask supervisord to stop every program and exit; True once it has (False: it was not running)."""
    number = pid()
    if number is None:
        return False
    supervisorctl("shutdown")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _running(number):
            return True
        time.sleep(0.2)
    raise TimeoutError(f"supervisord (pid {number}) still running after {timeout:.0f} s")


# --- The event listener --------------------------------------------------------------------------

_STATES = {
    # state: (level, what is said)
    "PROCESS_STATE_STARTING": (logging.INFO, "starting"),
    "PROCESS_STATE_RUNNING": (logging.INFO, "running"),
    "PROCESS_STATE_BACKOFF": (logging.WARNING, "exited while starting; supervisord tries again"),
    "PROCESS_STATE_STOPPING": (logging.INFO, "stopping"),
    "PROCESS_STATE_STOPPED": (logging.INFO, "stopped"),
    "PROCESS_STATE_FATAL": (
        logging.ERROR,
        "gave up after its start retries (see its lines above; restart it with "
        "`manage.py stack restart NAME` once the cause is fixed)",
    ),
}


def describe(event: str, payload: dict[str, str]) -> tuple[int, str] | None:
    """The log line of a supervisord PROCESS_STATE event (None for the listener's own events)."""
    name = payload.get("processname", "?")
    if name == "events":
        return None
    pid_part = f" (pid {payload['pid']})" if payload.get("pid") else ""
    if event == "PROCESS_STATE_EXITED":
        if payload.get("expected") == "1":
            return logging.INFO, f"{name} exited{pid_part}"
        return logging.WARNING, f"{name} exited unexpectedly{pid_part}; supervisord restarts it"
    level, what = _STATES.get(event, (logging.INFO, event.removeprefix("PROCESS_STATE_").lower()))
    return level, f"{name} {what.replace('NAME', name)}{pid_part}"


def _fields(line: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in line.split())


def events_main(stdin=sys.stdin, stdout=sys.stdout) -> None:
    """supervisord's event-listener protocol: READY, read a header and its payload, log, RESULT."""
    from wechathhu.logs import Formatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Formatter())
    logger = logging.getLogger("wechathhu.stack")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    while True:
        stdout.write("READY\n")
        stdout.flush()
        header_line = stdin.readline()
        if not header_line:
            return
        header = _fields(header_line)
        body = stdin.read(int(header["len"]))
        payload = _fields(body.split("\n", 1)[0])
        said = describe(header.get("eventname", ""), payload)
        if said is not None:
            logger.log(*said)
        stdout.write("RESULT 2\nOK")
        stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["events"]:
        events_main()
    else:
        sys.exit("usage: python -m wechathhu.stack events  (run by supervisord)")
