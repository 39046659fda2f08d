"""Avatars: an uploaded image, checked and re-encoded as a square JPEG."""

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps

from wechathhu.core.errors import ApplicationError
from wechathhu.core.images import InvalidImage, open_image

from ..errors import AccountsErrorCode as Code
from ..models import User

AVATAR_NOT_IMAGE = "请上传 JPEG、PNG、GIF 或 WebP 格式的图片。"


def avatar_image_open(upload) -> Image.Image:
    """The uploaded avatar as a loaded image; a 400 ``{"avatar": [...]}`` for anything that is
    not a JPEG, PNG, GIF or WebP image within the size limits."""
    limit = settings.AVATAR_MAX_BYTES
    try:
        return open_image(upload, max_bytes=limit, max_pixels=settings.AVATAR_MAX_PIXELS)
    except InvalidImage as exc:
        if exc.code == "too_large":
            raise ApplicationError(
                f"头像文件不能超过 {limit / 1024 / 1024:g} MB。", field="avatar", code=Code.AVATAR_TOO_LARGE
            )
        if exc.code == "too_many_pixels":
            raise ApplicationError(
                "图片尺寸过大，请上传较小的图片。", field="avatar", code=Code.AVATAR_TOO_MANY_PIXELS
            )
        raise ApplicationError(AVATAR_NOT_IMAGE, field="avatar", code=Code.AVATAR_NOT_IMAGE)


def _avatar_jpeg(image: Image.Image) -> bytes:
    """Re-encoded: orientation applied, metadata dropped, a square JPEG of ``AVATAR_SIZE`` px."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    else:
        image = image.convert("RGB")
    size = settings.AVATAR_SIZE
    image = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


@transaction.atomic
def user_set_avatar(*, user: User, upload) -> User:
    """Replace the avatar with the uploaded image, re-encoded (a non-image or a file over
    ``AVATAR_MAX_BYTES`` is refused with a 400). The old file is removed after commit."""
    data = _avatar_jpeg(avatar_image_open(upload))
    old_name = user.avatar.name
    user.avatar.save(f"{uuid.uuid4().hex}.jpg", ContentFile(data), save=False)
    user.save(update_fields=["avatar"])
    if old_name:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return user


@transaction.atomic
def user_remove_avatar(*, user: User) -> User:
    old_name = user.avatar.name
    user.avatar = ""
    user.save(update_fields=["avatar"])
    if old_name:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return user
