"""Cells safe to open in Excel/WPS/LibreOffice: every export (xlsx or CSV) passes its values here.

A text cell beginning with ``= + - @`` (or tab / carriage return, which some programs skip before
one of those; or their full-width forms, which an IME may turn into them) is read as a formula by a
spreadsheet program: a name typed as ``=HYPERLINK("http://evil", "点我")`` or ``=cmd|' /c calc'!A0``
would run on the staff member's computer (CSV/formula injection, OWASP). Such a text gets a leading
apostrophe, the spreadsheets' own mark for "this is text"; what follows is kept as typed. A plain
number written as text (``-5``, ``+8613800000000``) is no formula and stays as it is; numbers, dates
and booleans are not text and are never touched.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def cell_safe(value):
    """``value`` as it may go into a spreadsheet cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def row_safe(values) -> list:
    """A row of cells, each through ``cell_safe``."""
    return [cell_safe(value) for value in values]


def safe_export_resource(resource_class):
    """A django-import-export resource whose exported cells go through ``cell_safe`` (the admin's
    导出 of every format). Its own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` strips the characters
    instead, changing what was typed."""

    class SafeExportResource(resource_class):
        def export_field(self, field, instance, **kwargs):
            return cell_safe(super().export_field(field, instance, **kwargs))

    SafeExportResource.__name__ = SafeExportResource.__qualname__ = resource_class.__name__
    return SafeExportResource
