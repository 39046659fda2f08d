"""What a guide file may be: an allowed extension (``GUIDES_ALLOWED_EXTENSIONS``), within
``GUIDES_MAX_UPLOAD_SIZE``, and content that really is of that type (cheap magic-byte sniffing).

The content type sent to clients comes from this table, never from the uploader's browser.
"""

import os
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}

# A stored file's extension, by its (checked) content type: one per type (.jpg for JPEG).
STORED_EXTENSIONS = {content_type: f".{ext}" for ext, content_type in CONTENT_TYPES.items() if ext != "jpeg"}

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of legacy .doc/.xls/.ppt
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}


def extension_of(name: str) -> str:
    return os.path.splitext(name or "")[1].lower().lstrip(".")


def content_type_for(name: str) -> str:
    return CONTENT_TYPES.get(extension_of(name), "application/octet-stream")


def _looks_like(ext: str, head: bytes, file) -> bool:
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext in ("doc", "xls", "ppt"):
        return head.startswith(OLE2)
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if ext == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext == "zip":
        return head.startswith(ZIP_MAGICS)
    if ext in OOXML_PART:
        if not head.startswith(ZIP_MAGICS):
            return False
        try:
            names = zipfile.ZipFile(file).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        return "[Content_Types].xml" in names and any(n.startswith(OOXML_PART[ext]) for n in names)
    return False


def content_matches(ext: str, file) -> bool:
    """Whether the bytes of ``file`` (an open file, rewound afterwards) really are a ``ext`` file
    (shared with conversations' file messages)."""
    try:
        file.seek(0)
        head = file.read(16)
        file.seek(0)
        return _looks_like(ext, head, file)
    finally:
        file.seek(0)


def validate_guide_file(value) -> None:
    """Refuse a file of a type not allowed, too large, or whose content does not match its name.

    A file already in the storage was checked when it was uploaded and is not read again.
    """
    if getattr(value, "_committed", False):
        return
    name = getattr(value, "name", "") or ""
    ext = extension_of(name)
    allowed = [e.lower().lstrip(".") for e in settings.GUIDES_ALLOWED_EXTENSIONS]
    if ext not in allowed or ext not in CONTENT_TYPES:
        raise ValidationError(
            "不支持的文件类型“%(ext)s”，允许的类型：%(allowed)s。",
            code="file_type",
            params={"ext": ext or "无扩展名", "allowed": "、".join(allowed)},
        )
    size = value.size
    if size > settings.GUIDES_MAX_UPLOAD_SIZE:
        raise ValidationError(
            "文件过大（%(size)s），不能超过 %(limit)s。",
            code="file_size",
            params={"size": filesizeformat(size), "limit": filesizeformat(settings.GUIDES_MAX_UPLOAD_SIZE)},
        )
    if size == 0:
        raise ValidationError("文件为空。", code="file_empty")
    file = getattr(value, "file", value)
    try:
        file.seek(0)
        head = file.read(16)
        file.seek(0)
        matches = _looks_like(ext, head, file)
    finally:
        file.seek(0)
    if not matches:
        raise ValidationError(
            "文件内容与扩展名“%(ext)s”不符，请上传真正的 %(ext)s 文件。",
            code="file_content",
            params={"ext": ext},
        )
