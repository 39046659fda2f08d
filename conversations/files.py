"""What a picture or file message may carry: checked by its bytes, never by the uploader's
name or content type alone, within the sizes and types of the settings."""

import os

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from guides.validators import CONTENT_TYPES, content_matches, extension_of
from wechathhu.core.errors import ApplicationError
from wechathhu.core.images import ACCEPTED_IMAGE_FORMATS, InvalidImage, open_image

from .errors import ConversationsErrorCode as Code
from .models import MessageKind

PICTURE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


class CheckedFile:
    """An upload that passed the checks, with what is stored about it."""

    def __init__(self, upload, *, name: str, content_type: str, ext: str):
        self.upload = upload
        self.name = name
        self.size = upload.size
        self.content_type = content_type
        self.ext = ext


def _too_large(limit: int, size: int):
    return ApplicationError(
        f"文件过大（{filesizeformat(size)}），不能超过 {filesizeformat(limit)}。",
        code=Code.FILE_TOO_LARGE,
        field="file",
    )


def check_upload(upload, message_type: str) -> CheckedFile:
    """The upload as a ``CheckedFile``, or a 400 naming what is wrong."""
    if upload is None:
        raise ApplicationError("图片和文件消息须上传文件（file）。", code=Code.FILE_MISSING, field="file")
    name = os.path.basename(getattr(upload, "name", "") or "")[:255] or "file"
    if upload.size == 0:
        raise ApplicationError("文件为空。", code=Code.FILE_CONTENT, field="file")
    if message_type == MessageKind.PICTURE:
        limit = settings.CONVERSATIONS_PICTURE_MAX_BYTES
        if upload.size > limit:
            raise _too_large(limit, upload.size)
        try:
            image = open_image(upload, max_bytes=limit, max_pixels=settings.AVATAR_MAX_PIXELS)
        except InvalidImage as exc:
            raise ApplicationError(
                "图片无法识别，请上传 JPEG、PNG、GIF 或 WebP 图片。", code=Code.FILE_CONTENT, field="file"
            ) from exc
        return CheckedFile(
            upload,
            name=name,
            content_type=ACCEPTED_IMAGE_FORMATS[image.format],
            ext=PICTURE_EXTENSIONS[image.format],
        )
    limit = settings.CONVERSATIONS_FILE_MAX_BYTES
    if upload.size > limit:
        raise _too_large(limit, upload.size)
    ext = extension_of(name)
    allowed = [e.lower().lstrip(".") for e in settings.CONVERSATIONS_FILE_EXTENSIONS]
    if ext not in allowed or ext not in CONTENT_TYPES:
        raise ApplicationError(
            f"不支持的文件类型“{ext or '无扩展名'}”，允许的类型：{'、'.join(allowed)}。",
            code=Code.FILE_TYPE,
            field="file",
        )
    if not content_matches(ext, getattr(upload, "file", upload)):
        raise ApplicationError(
            f"文件内容与扩展名“{ext}”不符，请上传真正的 {ext} 文件。", code=Code.FILE_CONTENT, field="file"
        )
    return CheckedFile(upload, name=name, content_type=CONTENT_TYPES[ext], ext=ext)
