"""The official account's admin, one module per concern."""

from . import followers, inbox, mass, menus, robot  # noqa: F401 - registers the admins
