"""GET/PUT /current-user/ and /current-user/meta/ in the shapes the client uses (C2, C6–C9)."""

import pytest

from accounts.tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

USER_KEYS = {
    "id",
    "username",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "kind",
    "is_staff",
    "is_active",
    "date_joined",
    "groups",
    "department",
    "avatar",
}


def test_current_user_has_the_fields_the_client_reads(api_client, user):
    body = api_client.get("/current-user/").json()
    assert set(body) == USER_KEYS
    assert body["department"] == {"id": user.department.id, "name": user.department.name}
    assert body["full_name"] == user.last_name + user.first_name


def test_current_user_requires_login(anon_client):
    assert anon_client.get("/current-user/").status_code == 401


def test_profile_update_as_the_client_sends_it(api_client, user):
    department = DepartmentFactory(name="软件工程系")
    response = api_client.put(
        "/current-user/",
        {"first_name": "三", "last_name": "张", "email": "a@b.cn", "department": department.id},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["last_name"], body["email"]) == ("三", "张", "a@b.cn")
    assert body["department"] == {"id": department.id, "name": "软件工程系"}
    user.refresh_from_db()
    assert (user.name_pinyin, user.name_initials, user.alpha) == ("zhangsan", "zs", "Z")


def test_profile_update_clears_department_and_email(api_client, user):
    response = api_client.put(
        "/current-user/", {"first_name": "三", "last_name": "张", "email": None, "department": None}
    )
    assert response.status_code == 200
    assert response.json()["department"] is None
    assert response.json()["email"] == ""


def test_profile_errors_come_back_merged_in_one_dict(api_client):
    response = api_client.put(
        "/current-user/", {"first_name": "", "last_name": "张", "email": "not-an-email", "department": 999999}
    )
    assert response.status_code == 400
    assert response.json() == {
        "first_name": ["该字段不能为空。"],
        "email": ["请输入合法的邮件地址。"],
        "department": ["无效主键 “999999” － 对象不存在。"],
        "error_code": "blank",
    }


def test_password_change_needs_the_current_password(api_client, user, password):
    payload = {"first_name": "三", "last_name": "张", "password": "a-new-long-passphrase"}
    response = api_client.put("/current-user/", payload)
    assert response.status_code == 400
    assert response.json() == {"old_password": ["修改密码需要提供当前密码。"], "error_code": "invalid"}

    response = api_client.put("/current-user/", {**payload, "old_password": "wrong"})
    assert response.status_code == 400
    assert response.json() == {"old_password": ["当前密码不正确。"], "error_code": "wrong_password"}

    response = api_client.put("/current-user/", {**payload, "old_password": password})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")


def test_weak_new_password_is_refused_with_djangos_messages(api_client, password):
    response = api_client.put(
        "/current-user/", {"first_name": "三", "last_name": "张", "password": "123", "old_password": password}
    )
    assert response.status_code == 400
    messages = response.json()["password"]
    assert "密码长度太短。密码必须包含至少 8 个字符。" in messages
    assert "密码只包含数字。" in messages


def test_patch_is_not_allowed(api_client):
    response = api_client.patch("/current-user/", {"first_name": "x"})
    assert response.status_code == 405
    assert response.json() == {"detail": "方法 “PATCH” 不被允许。", "error_code": "method_not_allowed"}


META_KEYS = {
    "user",
    "user_meta",
    "post",
    "qq",
    "wechat",
    "tel",
    "phone",
    "description",
    "fullname",
    "alpha",
    "is_friend",
    # who may see each field (new; the client echoes them back untouched)
    "post_visibility",
    "tel_visibility",
    "email_visibility",
    "phone_visibility",
    "qq_visibility",
    "wechat_visibility",
    "presence_visibility",  # issue 14: who sees whether I am online
}


def test_meta_has_the_fields_the_client_reads(api_client, user):
    body = api_client.get("/current-user/meta/").json()
    assert set(body) == META_KEYS
    assert body["user"] == user.pk
    assert body["user_meta"]["id"] == user.pk
    assert body["fullname"] == user.full_name
    assert body["is_friend"] is False


def test_meta_put_accepts_the_echoed_object_and_ignores_read_only_keys(api_client, user):
    echoed = api_client.get("/current-user/meta/").json()
    echoed.update(
        {
            "post": "教授",
            "qq": "123",
            "wechat": "w",
            "tel": "025-1",
            "phone": "13800000000",
            "description": "研究方向：分布式系统",
            "fullname": "伪造",
            "alpha": "Q",
            "user": 999,
        }
    )
    response = api_client.put("/current-user/meta/", echoed)
    assert response.status_code == 200
    body = response.json()
    assert body["post"] == "教授" and body["phone"] == "13800000000"
    assert body["fullname"] == user.full_name and body["user"] == user.pk


def test_meta_put_accepts_nulls_as_empty(api_client):
    response = api_client.put("/current-user/meta/", {"post": None, "qq": None})
    assert response.status_code == 200
    assert response.json()["post"] == ""


def test_meta_put_refuses_too_long_values_per_field(api_client):
    response = api_client.put("/current-user/meta/", {"qq": "1" * 40, "tel": "2" * 40})
    assert response.status_code == 400
    assert response.json() == {
        "qq": ["请确保这个字段不能超过 32 个字符。"],
        "tel": ["请确保这个字段不能超过 32 个字符。"],
        "error_code": "max_length",
    }


def test_departments_are_a_bare_array_in_constant_queries(api_client, django_assert_num_queries):
    DepartmentFactory(name="甲")
    api_client.get("/departments/")  # warm up the token touch
    with django_assert_num_queries(2) as ctx:
        one = api_client.get("/departments/").json()
    for i in range(10):
        DepartmentFactory(name=f"乙{i}")
    with django_assert_num_queries(len(ctx.captured_queries)):
        many = api_client.get("/departments/").json()
    assert len(many) == len(one) + 10
    assert set(many[0]) == {"id", "name"}
