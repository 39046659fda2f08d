"""Settings from the environment and from a ``.env`` file, read one way everywhere.

Three rules an operator can rely on (issue 17):

* **An empty value means the default.** ``KEY=`` in ``.env`` or ``KEY=`` in the environment is the same
  as leaving ``KEY`` out, so copying ``.env.example`` never turns a built-in default into ``""``.
* **A value that cannot be parsed stops start-up** with a message naming the variable (``DEBUG=maybe``,
  ``EMAIL_TIMEOUT=15s``, a database URL with an unknown scheme), never a silent ``False`` or ``0``.
* **The ``.env`` file means the same to every tool that reads it**: this reader, ``bash`` (``set -a;
  . ./.env``) and systemd's ``EnvironmentFile=``. Lines are ``KEY=value``; a value with spaces or any of
  ``' " ` $ \\ | & ; < > ( )`` is quoted (``KEY="a <b>"``); anything else is refused with its line number.

The file is ``.env`` at the top of the checkout, or the one ``ENV_FILE`` names (``ENV_FILE=/dev/null``:
none). Variables already in the environment win over the file, an empty one included (it means the
default), so a service manager or a test can override any line.
"""

import math
import os
import re
from collections.abc import MutableMapping
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

NOTSET = environ.Env.NOTSET

_ASSIGNMENT = re.compile(r"\A([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z")
# Unquoted, these mean something else to bash (or to systemd, or to django-environ): refuse them.
_NEEDS_QUOTES = re.compile(r"""[\s'"`$\\|&;<>()]""")
_DOUBLE_QUOTED = re.compile(r'\A"([^"`$\\]*)"\Z')
_SINGLE_QUOTED = re.compile(r"\A'([^']*)'\Z")
# Names whose values may hold a password: never echoed in an error message.
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY\Z|_URL\Z")

_BOOLEANS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}
RATE = re.compile(r"\A\s*([0-9]+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*\Z")


def parse_env_file(text: str, *, source: str = ".env") -> dict[str, str]:
    """The assignments of a ``.env`` file's text; ``ImproperlyConfigured`` names the first bad line."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{source}, line {number}"
        if not line.strip() or line.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if match is None:
            hint = (
                "remove 'export '"
                if line.startswith("export ")
                else "no spaces around '=' or before the name; comments start a line with '#'"
            )
            raise ImproperlyConfigured(f"{where}: not a KEY=value line ({hint}): {line[:60]!r}")
        key, value = match.groups()
        if value[:1] == '"':
            quoted = _DOUBLE_QUOTED.match(value)
            if quoted is None:
                raise ImproperlyConfigured(
                    f"{where}: {key}'s double-quoted value must end the line with '\"' and hold none of "
                    '" ` $ \\ (use single quotes for those)'
                )
            value = quoted.group(1)
        elif value[:1] == "'":
            quoted = _SINGLE_QUOTED.match(value)
            if quoted is None:
                raise ImproperlyConfigured(
                    f'{where}: {key}\'s single-quoted value must end the line with "\'" and hold no "\'"'
                )
            value = quoted.group(1)
        elif _NEEDS_QUOTES.search(value):
            raise ImproperlyConfigured(
                f"{where}: quote {key}'s value: it contains a space or one of ' \" ` $ \\ | & ; < > ( ), "
                f'which a shell reads differently (write {key}="…")'
            )
        if key in lines:
            raise ImproperlyConfigured(f"{where}: {key} is already set on line {lines[key]} (keep one)")
        values[key], lines[key] = value, number
    return values


def load_env_file(default_path: Path, environ_: MutableMapping[str, str] = os.environ) -> Path | None:
    """Put the ``.env`` file's values into the environment (those not already there). Returns the
    file read, or None when there is none."""
    path = Path(environ_.get("ENV_FILE", "").strip() or default_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if environ_.get("ENV_FILE", "").strip():
            raise ImproperlyConfigured(f"ENV_FILE names {path}, which does not exist.") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"Cannot read {path}: {exc}") from None
    for key, value in parse_env_file(text, source=str(path)).items():
        environ_.setdefault(key, value)
    return path


class Env(environ.Env):
    """django-environ's typed getters (``env.int``, ``env.bool``, ``env.list``, ``env.db`` …) with the
    rules of this module: empty means default, unparsable stops start-up naming the variable, and values
    are literal (django-environ's ``$OTHER_VARIABLE`` references are not followed)."""

    def get_value(self, var, cast=None, default=NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var)
        if raw is None or not raw.strip():
            if default is NOTSET:
                raise ImproperlyConfigured(f"Set {var} (see .env.example).")
            if not (parse_default and isinstance(default, str)):
                return default
            raw = default
        if cast is None and default is not NOTSET and default is not None:
            cast = type(default)
        return self._cast(var, raw.strip(), cast)

    def _cast(self, var: str, value: str, cast):
        try:
            if cast is None or cast is str:
                return value
            if cast is bool:
                try:
                    return _BOOLEANS[value.lower()]
                except KeyError:
                    raise ValueError("not a boolean: write true or false") from None
            if cast is int:
                try:
                    return int(value)
                except ValueError:
                    raise ValueError("not a whole number") from None
            if cast is float:
                try:
                    number = float(value)
                except ValueError:
                    raise ValueError("not a number") from None
                if not math.isfinite(number):
                    raise ValueError("not a finite number")
                return number
            if cast is list:
                return [item.strip() for item in value.split(",") if item.strip()]
            return self.parse_value(value, cast)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise self.invalid(var, value, str(exc) or type(exc).__name__) from None

    @staticmethod
    def invalid(var: str, value: str, problem: str) -> ImproperlyConfigured:
        shown = f"{var} (value hidden)" if _SECRET_NAME.search(var) else f"{var}={value!r}"
        return ImproperlyConfigured(f"Invalid setting {shown}: {problem}.")

    def rate(self, var: str, default: str) -> str:
        """A DRF throttle rate, ``N/period`` (period: s, min, hour, day), checked now rather than at
        the first throttled request."""
        value = self.str(var, default=default)
        if not RATE.match(value):
            raise self.invalid(var, value, "not a rate such as 10/min (periods: s, min, hour, day)")
        return value.replace(" ", "")

    def db_url(self, var="DATABASE_URL", default=NOTSET, engine=None):
        value = self.get_value(var, default=default)
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in self.DB_SCHEMES:
            raise self.invalid(var, value, "not a database URL such as mysql://user:password@host:3306/name")
        try:
            config = self.db_url_config(value, engine=engine)
        except (ValueError, TypeError, KeyError) as exc:
            raise self.invalid(var, value, str(exc)) from None
        if not config.get("NAME"):
            raise self.invalid(var, value, "the URL names no database")
        return config

    db = db_url

    def email_url(self, var="EMAIL_URL", default=NOTSET, backend=None):
        value = self.get_value(var, default=default)
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in self.EMAIL_SCHEMES:
            raise self.invalid(var, value, "not an e-mail URL such as smtp+tls://user:password@host:587")
        try:
            return self.email_url_config(value, backend=backend)
        except (ValueError, TypeError, KeyError, ImproperlyConfigured) as exc:
            raise self.invalid(var, value, str(exc)) from None
