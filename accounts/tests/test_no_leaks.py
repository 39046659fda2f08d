"""A card field its owner keeps to themselves appears in no answer of any accounts endpoint.

Every GET route of the accounts URLconfs is called (path parameters filled with the owner's
ids) by a colleague and friend of the owner, the closest a non-staff viewer can be; a route
added later is covered automatically.
"""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, reverse
from PIL import Image

from accounts.api import urls as mini_program_urls
from accounts.api import urls_v1
from accounts.models import Visibility
from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    FriendshipFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SECRETS = {
    "post": "秘密职位",
    "tel": "025-99990001",
    "email": "hidden-owner@example.edu.cn",
    "phone": "13999990002",
    "qq": "99990003",
    "wechat": "wx_hidden_99990004",
}


def get_routes():
    for module, namespace in ((mini_program_urls, "accounts"), (urls_v1, "accounts-v1")):
        for pattern in module.urlpatterns:
            assert isinstance(pattern, URLPattern)
            view = pattern.callback.view_class
            if hasattr(view, "get"):
                yield f"{namespace}:{pattern.name}", list(pattern.pattern.converters)


def test_a_private_field_leaks_through_no_endpoint(make_client):
    department = DepartmentFactory(name="计算机科学与技术系")
    owner = UserFactory(
        username="T7777",
        last_name="秘",
        first_name="密",
        department=department,
        **SECRETS,
        **{f"{field}_visibility": Visibility.NOBODY for field in SECRETS},
    )
    viewer = UserFactory(department=department)
    FriendshipFactory(user=owner, friend=viewer)
    FriendshipFactory(user=viewer, friend=owner)
    group = CampusGroupFactory()
    GroupMembershipFactory(group=group, user=owner, title="主席", is_manager=True)
    GroupMembershipFactory(group=group, user=viewer)
    school_class = SchoolClassFactory(department=department, head_teacher=owner)
    school_class.counsellors.add(owner)
    client = make_client(viewer)
    owner_client = make_client(owner)
    buffer = BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="PNG")
    owner_client.put(
        "/current-user/avatar/",
        {"avatar": SimpleUploadedFile("a.png", buffer.getvalue())},
        format="multipart",
    )
    owner.refresh_from_db()
    values = {
        "pk": owner.auth_tokens.first().pk,
        "user_id": owner.pk,
        "group_id": group.pk,
        "key": owner.avatar.name.rsplit("/", 1)[-1].split(".")[0],
    }
    queries = {"users/search/": {"q": "T7777"}, "contacts/": {"search": "秘密"}}

    called = []
    for name, params in get_routes():
        url = reverse(name, kwargs={p: values[p] for p in params})
        response = client.get(url, queries.get(url.lstrip("/"), {}))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        for field, secret in SECRETS.items():
            assert secret not in text, f"{field} leaked through {url}"
        called.append((url, response.status_code))
    assert ("/contacts/", 200) in called and ("/users/search/", 200) in called
    assert (f"/groups/{group.pk}/members/", 200) in called
    # the owner was in those answers, with the hidden fields as null
    row = next(r for r in client.get("/contacts/").json() if r["user"] == owner.pk)
    assert [row[f] for f in ("post", "tel", "phone", "qq", "wechat")] == [None] * 5
    assert row["user_meta"]["email"] is None
    # the owner's own answers do carry them, so the test would see a leak
    assert SECRETS["phone"] in owner_client.get("/current-user/meta/").content.decode()
