import pytest
from django.urls import reverse

from accounts.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_admin_is_branded_in_chinese(admin_client):
    response = admin_client.get("/admin/")
    assert "HHU计信院教师微服务" in response.content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "accounts_user",
        "accounts_department",
        "accounts_schoolclass",
        "accounts_campusgroup",
        "accounts_authtoken",
    ],
)
def test_changelists_render(admin_client, name):
    assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_user_search_by_number_name_and_pinyin(admin_client):
    UserFactory(
        username="T4242", last_name="单", first_name="雄信", name_pinyin="shanxiongxin", name_initials="sxx"
    )
    UserFactory(username="T4343", last_name="王", first_name="五", name_pinyin="wangwu", name_initials="ww")
    url = reverse("admin:accounts_user_changelist")
    for term in ("T4242", "雄信", "shanxiong", "sxx"):
        page = admin_client.get(url, {"q": term}).content.decode()
        assert "T4242" in page and "T4343" not in page, term


def test_user_filters_by_kind_and_department(admin_client):
    department = DepartmentFactory(name="信息安全系")
    UserFactory(username="T5151", department=department)
    UserFactory(username="S5252", kind="student")
    url = reverse("admin:accounts_user_changelist")
    page = admin_client.get(url, {"kind__exact": "student"}).content.decode()
    assert "S5252" in page and "T5151" not in page
    page = admin_client.get(url, {"department__id__exact": department.id}).content.decode()
    assert "T5151" in page and "S5252" not in page


def test_add_user_from_the_admin_sets_name_keys(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "T3001",
            "last_name": "曾",
            "first_name": "国",
            "kind": "teacher",
            "usable_password": "true",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from accounts.models import User

    user = User.objects.get(username="T3001")
    assert user.alpha == "Z" and user.check_password("a-long-pass-phrase")
