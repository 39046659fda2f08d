"""Photo checks: the count (also checked by the API serializer, cheaply) and each photo's bytes
(by the create service only: every photo is decoded once, before the transaction)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from wechathhu.core.images import ACCEPTED_IMAGE_FORMATS, InvalidImage, open_image


def photo_content_type(upload) -> str:
    """Check one uploaded photo and return its real content type (from its bytes, not its name).

    Raises ``ValidationError`` with a message saying what is wrong: too large, not an image,
    or an image format that is not accepted.
    """
    name = getattr(upload, "name", "") or "图片"
    limit = settings.REPAIRS_PHOTO_MAX_BYTES
    try:
        with open_image(upload, max_bytes=limit, max_pixels=settings.REPAIRS_PHOTO_MAX_PIXELS) as image:
            return ACCEPTED_IMAGE_FORMATS[image.format]
    except InvalidImage as exc:
        if exc.code == "too_many_pixels":
            raise ValidationError(f"照片“{name}”的尺寸过大，请上传较小的图片。", code="photo_too_many_pixels")
        if exc.code == "too_large":
            raise ValidationError(
                f"照片“{name}”过大（{filesizeformat(upload.size)}），每张不能超过 {filesizeformat(limit)}。",
                code="photo_too_large",
            )
        if exc.code == "unsupported_format":
            raise ValidationError(
                f"不支持“{name}”的图片格式（{exc.image_format}），请上传 JPEG、PNG、GIF 或 WebP 格式的照片。",
                code="photo_format",
            )
        raise ValidationError(
            f"文件“{name}”不是有效的图片，请上传 JPEG、PNG、GIF 或 WebP 格式的照片。", code="photo_not_image"
        )


def validate_photo_count(count: int) -> None:
    limit = settings.REPAIRS_PHOTO_MAX_COUNT
    if count > limit:
        raise ValidationError(f"最多上传 {limit} 张照片。", code="photo_count")
