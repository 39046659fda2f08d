"""Photo checks shared by the API serializer and the create service."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

# Pillow format name → the content type the photo is stored and served with.
ALLOWED_IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


def photo_content_type(upload) -> str:
    """Check one uploaded photo and return its real content type (from its bytes, not its name).

    Raises ``ValidationError`` with a message saying what is wrong: too large, not an image,
    or an image format that is not accepted.
    """
    name = getattr(upload, "name", "") or "图片"
    limit = settings.REPAIRS_PHOTO_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            f"照片“{name}”过大（{filesizeformat(upload.size)}），每张不能超过 {filesizeformat(limit)}。",
            code="photo_too_large",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            f"文件“{name}”不是有效的图片，请上传 JPEG、PNG、GIF 或 WebP 格式的照片。", code="photo_not_image"
        )
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(
            f"不支持“{name}”的图片格式（{image_format}），请上传 JPEG、PNG、GIF 或 WebP 格式的照片。",
            code="photo_format",
        )
    return ALLOWED_IMAGE_FORMATS[image_format]


def validate_photo_count(count: int) -> None:
    limit = settings.REPAIRS_PHOTO_MAX_COUNT
    if count > limit:
        raise ValidationError(f"最多上传 {limit} 张照片。", code="photo_count")
