"""Checking uploaded images by their bytes (never their name), shared by avatars and repair photos."""

from PIL import Image, UnidentifiedImageError

# Pillow format name → the content type the image is stored and served with.
ACCEPTED_IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


# The content type → the extension a stored file of that type gets (never the uploaded name's).
IMAGE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


class InvalidImage(Exception):
    """Why an upload is refused: ``too_large``, ``not_image``, ``unsupported_format`` or
    ``too_many_pixels`` (``image_format`` names the format when one was recognised)."""

    def __init__(self, code: str, image_format: str | None = None):
        super().__init__(code)
        self.code = code
        self.image_format = image_format


def open_image(upload, *, max_bytes: int, max_pixels: int | None = None) -> Image.Image:
    """The upload as a fully decoded image, or ``InvalidImage``.

    Checks, in order: the file size, that Pillow recognises an image, that its format is one of
    ``ACCEPTED_IMAGE_FORMATS``, the pixel count (decompression bombs), then decodes it all so a
    truncated or corrupt file is refused too.
    """
    if upload.size > max_bytes:
        raise InvalidImage("too_large")
    try:
        upload.seek(0)
        image = Image.open(upload)
        if image.format not in ACCEPTED_IMAGE_FORMATS:
            raise InvalidImage("unsupported_format", image.format)
        width, height = image.size
        if max_pixels is not None and width * height > max_pixels:
            raise InvalidImage("too_many_pixels", image.format)
        image.load()
    except InvalidImage:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise InvalidImage("not_image")
    finally:
        upload.seek(0)
    return image
