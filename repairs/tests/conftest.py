"""Fixtures of the repairs tests: images to upload."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def make_image(name="photo.png", image_format="PNG", size=(16, 16)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg"}.get(image_format, "application/octet-stream")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)
