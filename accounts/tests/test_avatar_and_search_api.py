"""Avatar upload (images only, size-limited, re-encoded) and GET /users/search/?q= (privacy)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User, Visibility
from accounts.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def image_file(fmt="PNG", size=(800, 600), mode="RGBA", name="me.png"):
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def upload(client, file):
    return client.put("/current-user/avatar/", {"avatar": file}, format="multipart")


def test_upload_re_encodes_a_square_jpeg_served_at_an_unguessable_url(api_client, anon_client, user):
    response = upload(api_client, image_file())
    assert response.status_code == 200
    url = response.json()["avatar"]
    assert url.startswith("http://testserver/avatars/") and url.endswith(".jpg")
    user.refresh_from_db()
    with user.avatar.open("rb") as fh:
        stored = Image.open(fh)
        assert (stored.format, stored.size, stored.mode) == ("JPEG", (512, 512), "RGB")

    served = anon_client.get(url.removeprefix("http://testserver"))  # <image src> sends no token
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content)[:3] == b"\xff\xd8\xff"
    assert anon_client.get(f"/avatars/{user.pk}/{'0' * 32}.jpg").status_code == 404

    # The directory and the user search show the same URL.
    [entry] = [row for row in api_client.get("/contacts/").json() if row["user"] == user.pk]
    assert entry["user_meta"]["avatar"] == url
    found = api_client.get("/users/search/", {"q": user.username}).json()["results"]
    assert [row["user_meta"]["avatar"] for row in found] == [url]


def test_a_new_upload_replaces_and_removes_the_old_file(api_client, user, django_capture_on_commit_callbacks):
    upload(api_client, image_file())
    user.refresh_from_db()
    old_name, storage = user.avatar.name, user.avatar.storage
    with django_capture_on_commit_callbacks(execute=True):
        upload(api_client, image_file("JPEG", mode="RGB", name="b.jpg"))
    user.refresh_from_db()
    assert user.avatar.name != old_name
    assert not storage.exists(old_name)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete("/current-user/avatar/")
    assert response.json()["avatar"] is None
    assert not storage.exists(user.avatar.name)


def test_a_non_image_is_refused_clearly(api_client, user):
    fake = SimpleUploadedFile("me.png", b"%PDF-1.4 not an image at all", content_type="image/png")
    response = upload(api_client, fake)
    assert response.status_code == 400
    assert response.json() == {
        "avatar": ["请上传 JPEG、PNG、GIF 或 WebP 格式的图片。"],
        "error_code": "avatar_not_image",
    }
    user.refresh_from_db()
    assert not user.avatar


def test_other_image_formats_are_refused(api_client):
    response = upload(api_client, image_file("BMP", mode="RGB", name="a.bmp"))
    assert response.status_code == 400
    assert response.json() == {
        "avatar": ["请上传 JPEG、PNG、GIF 或 WebP 格式的图片。"],
        "error_code": "avatar_not_image",
    }


def test_a_huge_file_is_refused_clearly(api_client, settings):
    settings.AVATAR_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (1024 * 1024 + 1), content_type="image/png")
    response = upload(api_client, big)
    assert response.status_code == 400
    assert response.json() == {"avatar": ["头像文件不能超过 1 MB。"], "error_code": "avatar_too_large"}


def test_an_image_too_large_in_pixels_is_refused(api_client, settings):
    settings.AVATAR_MAX_PIXELS = 100 * 100
    response = upload(api_client, image_file(size=(200, 200)))
    assert response.status_code == 400
    assert response.json() == {
        "avatar": ["图片尺寸过大，请上传较小的图片。"],
        "error_code": "avatar_too_many_pixels",
    }


def test_upload_without_a_file_is_400(api_client):
    response = api_client.put("/current-user/avatar/", {}, format="multipart")
    assert response.status_code == 400
    assert list(response.json()) == ["avatar", "error_code"]


# --- GET /users/search/?q= --------------------------------------------------------------------------


@pytest.fixture
def people():
    department = DepartmentFactory(name="网络工程系")
    return {
        "zhang": UserFactory(
            username="T3101", last_name="张", first_name="三", department=department, phone="13900000001"
        ),
        "shan": UserFactory(username="T3102", last_name="单", first_name="雄信", department=department),
        "gone": UserFactory(username="T3103", last_name="张", first_name="四", is_active=False),
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("T3101", ["zhang"]),
        ("t31", ["shan", "zhang"]),
        ("张", ["zhang"]),
        ("zs", ["zhang"]),
        ("shanx", ["shan"]),
    ],
)
def test_search_by_number_name_or_pinyin(api_client, people, q, expected):
    body = api_client.get("/users/search/", {"q": q}).json()
    ids = [row["user"] for row in body["results"]]
    assert ids == [people[name].id for name in expected]


def test_an_exact_number_comes_first(api_client, people):
    UserFactory(username="T31020", last_name="阿", first_name="一")
    body = api_client.get("/users/search/", {"q": "T3102"}).json()
    assert body["results"][0]["user_meta"]["username"] == "T3102"


def test_search_respects_privacy_and_cannot_probe_hidden_fields(api_client, people):
    row = api_client.get("/users/search/", {"q": "T3101"}).json()["results"][0]
    assert row["phone"] is None  # mobile is for colleagues and friends
    assert api_client.get("/users/search/", {"q": "13900000001"}).json()["count"] == 0
    User.objects.filter(pk=people["zhang"].pk).update(post="教授", post_visibility=Visibility.NOBODY)
    row = api_client.get("/users/search/", {"q": "T3101"}).json()["results"][0]
    assert row["post"] is None
    assert "is_staff" not in row["user_meta"]


def test_search_answers_seed_004s_flat_avatar_and_nickname_beside_the_directory_entry(api_client, people):
    """seed 004's ``/user/search`` answers ``[{avatar, nickname}]``: each result carries both flat,
    and still every key a directory entry has (``/contacts/``'s, ``user_meta`` included)."""
    from accounts.services.avatars import user_set_avatar

    user_set_avatar(user=people["zhang"], upload=image_file())
    nameless = UserFactory(username="T3199", last_name="", first_name="")
    contact_keys = set(api_client.get("/contacts/", {"search": "张三"}).json()[0])
    assert not contact_keys & {"avatar", "nickname"}  # C26's entries exactly as they were
    [row] = api_client.get("/users/search/", {"q": "T3101"}).json()["results"]
    assert set(row) == contact_keys | {"avatar", "nickname"}
    assert row["nickname"] == "张三" == row["fullname"]
    assert row["avatar"] == row["user_meta"]["avatar"] and row["avatar"].startswith("http")
    [row] = api_client.get("/users/search/", {"q": "T3102"}).json()["results"]
    assert row["avatar"] is None is row["user_meta"]["avatar"]
    [row] = api_client.get("/users/search/", {"q": nameless.username}).json()["results"]
    assert row["nickname"] == "T3199"  # no name: the number, as conversations show people


def test_search_needs_a_query(api_client):
    response = api_client.get("/users/search/")
    assert response.status_code == 400
    assert response.json() == {"q": ["该字段是必填项。"], "error_code": "required"}


def test_search_query_count_is_constant(api_client, django_assert_num_queries):
    # A surname the factory never gives (its sequence of surnames would make the caller a 张 too,
    # depending on how many users earlier tests made).
    department = DepartmentFactory(name="人工智能系")
    UserFactory(last_name="欧阳", first_name="一", department=department)
    api_client.get("/users/search/", {"q": "欧阳"})
    # auth, friendships, count, page
    with django_assert_num_queries(4):
        api_client.get("/users/search/", {"q": "欧阳"})
    UserFactory.create_batch(5, last_name="欧阳", department=department)
    with django_assert_num_queries(4):
        assert api_client.get("/users/search/", {"q": "欧阳"}).json()["count"] == 6


@pytest.mark.parametrize("fmt", ["PNG", "TEXT", "BMP"])
def test_staff_upload_an_avatar_in_the_admin_re_encoded_or_refused(client, superuser, fmt):
    from django.urls import reverse

    member = UserFactory()
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[member.pk])
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name in ("groups", "user_permissions"):
            data[name] = [getattr(v, "pk", v) for v in (value or [])]
        elif value not in (None, "") and name not in ("avatar", "password"):
            data[name] = getattr(value, "pk", value)
    if fmt == "PNG":
        data["avatar"] = image_file()
    elif fmt == "BMP":  # an image Django accepts, but not one of ours
        data["avatar"] = image_file("BMP", mode="RGB", name="a.bmp")
    else:
        data["avatar"] = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = client.post(url, data)
    member.refresh_from_db()
    if fmt == "PNG":
        assert response.status_code == 302, response.context["adminform"].form.errors
        with member.avatar.open("rb") as fh:
            assert Image.open(fh).size == (512, 512)
        assert member.avatar.name.endswith(".jpg")
    else:
        assert response.status_code == 200
        assert list(response.context["adminform"].form.errors) == ["avatar"]
        assert not member.avatar
