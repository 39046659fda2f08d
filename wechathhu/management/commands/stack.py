"""``manage.py stack start|stop|status|restart NAME``: the one-machine deployment (wechathhu/stack.py)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from wechathhu import stack


class Command(BaseCommand):
    help = (
        "The deployment on this machine. start (what make deploy runs): check the settings, migrate, "
        "collect the static files, then run gunicorn, the worker and beat under supervisord in the "
        "foreground. preflight: only the checks. stop: stop it (exit 0 once every process has stopped). "
        "status, restart NAME: its processes."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "preflight", "stop", "status", "restart"])
        parser.add_argument("programs", nargs="*", help=f"for restart: {', '.join(stack.PROGRAMS)} or all")

    def handle(self, *args, action, programs, **options):
        if action in ("preflight", "start"):
            self.preflight()
            if action == "start":
                if stack.pid() is not None:
                    raise CommandError(
                        f"already running (supervisord pid {stack.pid()}): make status, make stop"
                    )
                # In this one process (each Django start-up costs seconds): the schema, the static files.
                call_command("migrate", interactive=False)
                call_command("collectstatic", interactive=False, verbosity=1)
                self.stdout.write(
                    f"Starting {', '.join(stack.PROGRAMS)} under supervisord; stop with make stop."
                )
                self.stdout.flush()
                stack.exec_supervisord()
        elif action == "stop":
            if stack.stop():
                self.stdout.write("Stopped.")
            else:
                self.stdout.write("Not running: nothing to stop.")
        else:
            if stack.pid() is None:
                raise CommandError("Not running (start it with make deploy).")
            if action == "restart":
                names = programs or ["all"]
                unknown = set(names) - {*stack.PROGRAMS, "all"}
                if unknown:
                    raise CommandError(
                        f"Unknown program {', '.join(sorted(unknown))}: {', '.join(stack.PROGRAMS)} or all"
                    )
                result = stack.supervisorctl("restart", *names)
            else:
                result = stack.supervisorctl("status")
            self.stdout.write(result.stdout.rstrip())
            if result.returncode not in (0,):
                raise CommandError(result.stderr.strip() or f"supervisorctl exited {result.returncode}")

    def preflight(self):
        """What the stack needs before anything starts: a real database, a broker, a clean deploy check."""
        engine = settings.DATABASES["default"]["ENGINE"]
        missing = []
        if "mysql" not in engine:
            missing.append("DATABASE_URL=mysql://… (the stack's processes share one MySQL/MariaDB database)")
        if not settings.REDIS_URL:
            missing.append("REDIS_URL=redis://… (the worker and beat need a broker)")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            missing.append("CELERY_TASK_ALWAYS_EAGER unset or false (tasks go to the worker)")
        if missing:
            raise CommandError(
                "The full deployment needs, in .env or the environment (see .env.example):\n  "
                + "\n  ".join(missing)
            )
        call_command("check", deploy=not settings.DEBUG, fail_level="ERROR")
