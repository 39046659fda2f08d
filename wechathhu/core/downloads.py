"""File downloads: RFC 6266 names (Chinese names kept), stored files served with validators and
ranges, and Excel answers, for every app.

``stored_file_response`` serves a file of the storage (guides, message attachments):

* ``Content-Type`` given by the caller (from the checked type); ``Content-Disposition`` with the
  original (often Chinese) name as RFC 6266 / RFC 5987 ``filename*=UTF-8''…`` and an ASCII
  ``filename`` fallback.
* A strong ``ETag`` (the file's SHA-256) and ``Last-Modified``; ``If-None-Match`` /
  ``If-Modified-Since`` answer 304 and ``If-Match`` / ``If-Unmodified-Since`` 412.
* One byte range (``Range: bytes=a-b``, ``a-``, ``-n``) answers 206 with ``Content-Range``;
  an unsatisfiable range 416. ``If-Range`` with a stale validator gets the whole file. A
  multi-range or malformed header is ignored (RFC 9110 §14.2), so the whole file is sent.
"""

import os
import re
import unicodedata
from urllib.parse import quote

from django.http import FileResponse, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe

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


RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAX_RANGE_DIGITS = 18  # a byte position of 19 digits is past any file this site serves


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """``(first, last)`` inclusive for a satisfiable single range, ``None`` when the header is to be
    ignored, ``False`` when it is well formed but unsatisfiable."""
    match = RANGE_RE.match(header.strip().replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if len(first) > MAX_RANGE_DIGITS or len(last) > MAX_RANGE_DIGITS:
        # Beyond any file (and beyond what int() converts at all past 4300 digits): refused as
        # unsatisfiable before any conversion (issue 16 item 17).
        return False
    if first == "":  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid syntax: ignore the header
    if start >= size:
        return False
    return start, min(end, size - 1)


class _Slice:
    """A read-only window ``[start, start+length)`` of an open file, for ``FileResponse``."""

    def __init__(self, fh, start: int, length: int):
        self._fh = fh
        self._left = length
        fh.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._fh.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._fh.close()


def _if_range_matches(request, etag: str, last_modified: int) -> bool:
    value = request.META.get("HTTP_IF_RANGE")
    if not value:
        return True
    if value.startswith(('"', "W/")):
        return value == etag  # strong comparison: a weak validator never matches
    date = parse_http_date_safe(value)
    return date is not None and date == last_modified


def _set_headers(response: HttpResponse, headers: dict[str, str]) -> None:
    for key, value in headers.items():
        response.headers[key] = value


def stored_file_response(
    request,
    file,
    *,
    file_name: str,
    content_type: str,
    sha256: str,
    modified_at,
    as_attachment: bool = True,
    fallback_stem: str = "download",
) -> HttpResponse:
    """The response for ``GET`` (or ``HEAD``) of a stored ``file`` (a ``FieldFile``).

    Raises ``FileNotFoundError`` when the storage lost it.
    """
    etag = f'"{sha256}"'
    last_modified = int(modified_at.timestamp())
    validators = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
    }
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if conditional is not None:
        _set_headers(conditional, validators)
        return conditional

    fh = file.open("rb")  # FileNotFoundError when the storage lost it
    size = file.size
    byte_range = None
    if request.META.get("HTTP_RANGE") and _if_range_matches(request, etag, last_modified):
        byte_range = parse_range(request.META["HTTP_RANGE"], size)
    if byte_range is False:
        fh.close()
        response = HttpResponse(status=416)
        response.headers["Content-Range"] = f"bytes */{size}"
        _set_headers(response, validators)
        return response

    status, length = 200, size
    if byte_range:
        first, last = byte_range
        status, length = 206, last - first + 1
    if request.method == "HEAD":
        fh.close()
        response = HttpResponse(status=status, content_type=content_type)
    elif byte_range:
        response = FileResponse(_Slice(fh, first, length), status=206, content_type=content_type)
    else:
        response = FileResponse(fh, content_type=content_type)
    response.headers["Content-Length"] = str(length)
    if byte_range:
        response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    response.headers["Content-Disposition"] = content_disposition(
        file_name, as_attachment=as_attachment, fallback_stem=fallback_stem
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    _set_headers(response, validators)
    return response
