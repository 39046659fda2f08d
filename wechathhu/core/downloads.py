"""File downloads: RFC 6266 names (Chinese names kept) and Excel answers, for every app."""

import os
import re
import unicodedata
from urllib.parse import quote

from django.http import HttpResponse

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ascii(text: str) -> str:
    """The ASCII letters of ``text`` (full-width forms folded), for the ``filename`` fallback."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._() -]+", "_", text)
    return re.sub(r"\s+", " ", re.sub(r"\(\s*\)", "", text))


def content_disposition(
    file_name: str, *, as_attachment: bool = True, fallback_stem: str = "download"
) -> str:
    """RFC 6266: the UTF-8 name as ``filename*`` and an ASCII ``filename`` for old clients."""
    kind = "attachment" if as_attachment else "inline"
    stem, ext = os.path.splitext(file_name)
    fallback = (_ascii(stem).strip(" ._-") or fallback_stem) + _ascii(ext)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def xlsx_response(content: bytes, file_name: str) -> HttpResponse:
    """An Excel workbook as a download named ``file_name`` (may be Chinese)."""
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(file_name, fallback_stem="export")
    return response
