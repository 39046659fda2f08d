"""Issue 16 item 14: repair photos get the avatars' pixel limit and are decoded once; every stored
upload (repair photos, avatars, guide files) gets the extension of its detected type, never the
uploaded name's."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

import repairs.validators
from accounts.models import User
from conftest import PASSWORD
from guides import services as guide_services
from guides.tests.factories import GuideCategoryFactory
from repairs.models import RepairPhoto, RepairRequest
from repairs.tests.conftest import make_image

pytestmark = pytest.mark.django_db


def post_repair(client, photos):
    return client.post(
        "/repairs/", {"description": "灯坏了", "location": "教学楼 101", "photos": photos}, format="multipart"
    )


def test_repair_photos_have_the_avatars_pixel_limit_by_default(settings):
    assert settings.REPAIRS_PHOTO_MAX_PIXELS == settings.AVATAR_MAX_PIXELS


def test_a_photo_over_the_pixel_limit_is_refused_before_anything_is_saved(api_client, settings):
    settings.REPAIRS_PHOTO_MAX_PIXELS = 100 * 100
    # A few KB of PNG that decodes to 4 million pixels: refused from its header, never decoded.
    response = post_repair(api_client, [make_image("big.png", size=(2000, 2000))])
    assert response.status_code == 400
    assert response.json()["error_code"] == "photo_too_many_pixels"
    assert "尺寸过大" in response.json()["photos"][0]
    assert not RepairRequest.objects.exists()
    assert post_repair(api_client, [make_image("ok.png", size=(100, 100))]).status_code == 201


def test_each_photo_is_decoded_once(api_client, monkeypatch):
    opened = []
    real = repairs.validators.open_image

    def counting(upload, **kwargs):
        opened.append(upload.name)
        return real(upload, **kwargs)

    monkeypatch.setattr(repairs.validators, "open_image", counting)
    response = post_repair(api_client, [make_image("a.png"), make_image("b.jpg", "JPEG")])
    assert response.status_code == 201
    assert len(opened) == 2


@pytest.mark.parametrize(
    ("name", "image_format", "stored"),
    [
        ("evil.html", "PNG", ".png"),  # a PNG named .html is stored as .png
        ("photo.jpg", "PNG", ".png"),  # a PNG named .jpg too
        ("photo", "JPEG", ".jpg"),  # no extension at all
        ("x.JPEG", "JPEG", ".jpg"),
        ("anim.svg", "GIF", ".gif"),
    ],
)
def test_a_photo_is_stored_with_its_detected_types_extension(api_client, name, image_format, stored):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format=image_format)
    upload = SimpleUploadedFile(name, buffer.getvalue(), content_type="text/html")
    response = post_repair(api_client, [upload])
    assert response.status_code == 201
    photo = RepairPhoto.objects.get(request_id=response.json()["id"])
    assert re.fullmatch(rf"repairs/photos/[0-9a-f]{{32}}\{stored}", photo.image.name)


def test_the_portal_stores_photos_by_their_detected_type_too(user):
    browser = Client()
    browser.post("/m/login/", {"username": user.username, "password": PASSWORD})
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    response = browser.post(
        "/m/repairs/new/",
        {
            "location": "教学楼 101",
            "description": "灯坏了",
            "photos": [SimpleUploadedFile("a.php", buffer.getvalue())],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert RepairPhoto.objects.get().image.name.endswith(".png")


def test_an_avatar_is_stored_as_the_jpeg_it_is_re_encoded_to(api_client, user):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40)).save(buffer, format="PNG")
    response = api_client.put(
        "/current-user/avatar/",
        {"avatar": SimpleUploadedFile("me.html", buffer.getvalue())},
        format="multipart",
    )
    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).avatar.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("name", "stored"), [("申请表.JPEG", ".jpg"), ("规定.PDF", ".pdf"), ("表.jpeg", ".jpg")]
)
def test_a_guide_file_is_stored_with_its_types_extension(name, stored):
    if name.lower().endswith(".pdf"):
        from guides.samples import build_pdf

        content = build_pdf(["hello"])
    else:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
        content = buffer.getvalue()
    guide = guide_services.guide_create(
        name="指南", category=GuideCategoryFactory(), file=ContentFile(content, name=name)
    )
    assert guide.file_name == name  # the uploader's name, for downloads
    assert re.fullmatch(rf"guides/\d{{4}}/\d{{2}}/[0-9a-f]{{32}}\{stored}", guide.file.name)
