"""Serve a guide's file from the storage: streamed, cacheable and resumable (the shared helper,
``wechathhu.core.downloads.stored_file_response``: RFC 6266 names, ETag, conditional GETs, ranges).
"""

from django.http import HttpResponse

from guides.models import Guide
from wechathhu.core.downloads import parse_range, stored_file_response

__all__ = ["guide_file_response", "parse_range"]


def guide_file_response(request, guide: Guide, *, as_attachment: bool = True) -> HttpResponse:
    """The response for ``GET`` (or ``HEAD``) of ``guide``'s file. Raises ``FileNotFoundError``."""
    return stored_file_response(
        request,
        guide.file,
        file_name=guide.file_name,
        content_type=guide.content_type,
        sha256=guide.file_sha256,
        modified_at=guide.updated_at,
        as_attachment=as_attachment,
        fallback_stem="guide",
    )
