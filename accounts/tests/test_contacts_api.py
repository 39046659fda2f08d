"""The contact page's calls replayed as the client sends them (C26, C27), the directory's
privacy rules, search, order and query count."""

import pytest
from django.urls import reverse

from accounts.models import Friendship, Visibility
from accounts.tests.factories import DepartmentFactory, FriendshipFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTACT_KEYS = {
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
}
USER_META_KEYS = {
    "id",
    "username",
    "first_name",
    "last_name",
    "full_name",
    "kind",
    "email",
    "department",
    "avatar",
}
CARD = {"post": "教授", "tel": "025-83787001", "phone": "13900000001", "qq": "12345678", "wechat": "wx-zhang"}


@pytest.fixture
def department():
    return DepartmentFactory(name="计算机科学与技术系")


@pytest.fixture
def me(department):
    return UserFactory(username="T0001", last_name="王", first_name="五", department=department)


@pytest.fixture
def client(make_client, me):
    return make_client(me)


def by_id(body):
    return {row["user_meta"]["id"]: row for row in body}


# --- C26: GET /contacts/ --------------------------------------------------------------------------


def test_contact_page_default_call_lists_colleagues_friends_and_me(client, me, department):
    colleague = UserFactory(
        last_name="张",
        first_name="三",
        department=department,
        email="zs@example.edu.cn",
        description="研究方向",
        **CARD,
    )
    friend = UserFactory(department=DepartmentFactory(name="软件工程系"))
    FriendshipFactory(user=me, friend=friend)
    stranger = UserFactory(department=DepartmentFactory(name="网络工程系"))

    response = client.get("/contacts/", {"my": "yes"})

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    rows = by_id(body)
    assert set(rows) == {me.id, colleague.id, friend.id}
    assert stranger.id not in rows
    row = rows[colleague.id]
    assert set(row) == CONTACT_KEYS
    assert set(row["user_meta"]) == USER_META_KEYS
    assert row == {
        "user": colleague.id,
        "user_meta": {
            "id": colleague.id,
            "username": colleague.username,
            "first_name": "三",
            "last_name": "张",
            "full_name": "张三",
            "kind": "teacher",
            "email": "zs@example.edu.cn",
            "department": {"id": department.id, "name": "计算机科学与技术系"},
            "avatar": None,
        },
        "post": "教授",
        "qq": "12345678",
        "wechat": "wx-zhang",
        "tel": "025-83787001",
        "phone": "13900000001",
        "description": "研究方向",
        "fullname": "张三",
        "alpha": "Z",
        "is_friend": False,
    }
    assert rows[friend.id]["is_friend"] is True
    assert rows[me.id]["is_friend"] is False


def test_contact_page_switch_off_lists_every_active_user_and_never_inactive(client, me):
    others = UserFactory.create_batch(3, department=DepartmentFactory(name="信息安全系"))
    gone = UserFactory(is_active=False)

    for params in ({"my": "no"}, {}):
        ids = set(by_id(client.get("/contacts/", params).json()))
        assert ids == {me.id, *(u.id for u in others)}
        assert gone.id not in ids


def test_contact_list_rejects_a_bad_my_value(client):
    response = client.get("/contacts/", {"my": "maybe"})
    assert response.status_code == 400
    assert "my" in response.json()


def test_contacts_require_login(anon_client):
    assert anon_client.get("/contacts/").status_code == 401


def test_staff_flag_groups_and_join_date_are_not_in_the_directory(client, me):
    UserFactory(is_staff=True)
    for row in client.get("/contacts/").json():
        assert not {"is_staff", "is_active", "groups", "date_joined", "last_login", "password"} & set(
            row["user_meta"]
        )


# --- C27: POST / DELETE /friends/<user_id>/ --------------------------------------------------------


def test_friend_add_and_remove_as_the_contact_page_does(client, me):
    other = UserFactory(department=DepartmentFactory(name="人工智能系"))

    response = client.post(f"/friends/{other.id}/")
    assert response.status_code == 200
    assert response.content == b""
    assert by_id(client.get("/contacts/", {"my": "no"}).json())[other.id]["is_friend"] is True
    assert other.id in by_id(client.get("/contacts/", {"my": "yes"}).json())

    response = client.delete(f"/friends/{other.id}/")
    assert response.status_code == 200
    assert response.content == b""
    assert by_id(client.get("/contacts/", {"my": "no"}).json())[other.id]["is_friend"] is False
    assert not Friendship.objects.exists()


def test_adding_a_friend_twice_is_a_clear_400(client, me):
    other = UserFactory()
    client.post(f"/friends/{other.id}/")
    response = client.post(f"/friends/{other.id}/")
    assert response.status_code == 400
    assert response.json() == {"detail": "已存在该好友关系。", "error_code": "friend_exists"}
    assert Friendship.objects.count() == 1


def test_adding_oneself_is_refused(client, me):
    response = client.post(f"/friends/{me.id}/")
    assert response.status_code == 400
    assert response.json() == {"detail": "不能添加自己为好友。", "error_code": "friend_self"}


@pytest.mark.parametrize("method", ["post", "delete"])
def test_friend_endpoints_answer_404_for_unknown_or_inactive_users(client, method):
    inactive = UserFactory(is_active=False)
    for user_id in (987654, inactive.id):
        response = getattr(client, method)(f"/friends/{user_id}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "未找到。", "error_code": "not_found"}


def test_removing_someone_who_is_not_a_friend_is_404(client):
    other = UserFactory()
    response = client.delete(f"/friends/{other.id}/")
    assert response.status_code == 404


def test_friend_endpoints_require_login(anon_client, me):
    assert anon_client.post(f"/friends/{me.id}/").status_code == 401


# --- Privacy ----------------------------------------------------------------------------------------


def test_strangers_see_the_default_public_fields_only(client):
    owner = UserFactory(department=DepartmentFactory(name="网络工程系"), email="o@example.edu.cn", **CARD)
    row = by_id(client.get("/contacts/").json())[owner.id]
    assert (row["post"], row["tel"], row["user_meta"]["email"]) == (
        "教授",
        "025-83787001",
        "o@example.edu.cn",
    )
    assert (row["phone"], row["qq"], row["wechat"]) == (None, None, None)


def test_being_added_by_the_owner_shows_their_colleague_fields_but_adding_them_does_not(client, me):
    owner = UserFactory(department=DepartmentFactory(name="网络工程系"), **CARD)
    FriendshipFactory(user=me, friend=owner)
    assert by_id(client.get("/contacts/").json())[owner.id]["phone"] is None

    FriendshipFactory(user=owner, friend=me)
    assert by_id(client.get("/contacts/").json())[owner.id]["phone"] == CARD["phone"]


@pytest.mark.parametrize("field", ["post", "tel", "phone", "qq", "wechat"])
def test_a_field_hidden_from_everyone_never_leaks_through_the_directory(client, me, department, field):
    owner = UserFactory(department=department, **CARD, **{f"{field}_visibility": Visibility.NOBODY})
    FriendshipFactory(user=owner, friend=me)
    secret = CARD[field]

    for params in ({"my": "yes"}, {"my": "no"}, {"search": owner.last_name + owner.first_name}):
        response = client.get("/contacts/", params)
        assert by_id(response.json())[owner.id][field] is None
        assert secret not in response.content.decode()
    # nor can it be found by typing it
    assert owner.id not in by_id(client.get("/contacts/", {"search": secret}).json())


def test_a_hidden_email_never_leaks(client, me, department):
    owner = UserFactory(
        department=department, email="secret@example.edu.cn", email_visibility=Visibility.NOBODY
    )
    response = client.get("/contacts/")
    assert by_id(response.json())[owner.id]["user_meta"]["email"] is None
    assert "secret@example.edu.cn" not in response.content.decode()


def test_owner_and_staff_see_every_field(make_client, department):
    owner = UserFactory(
        department=department,
        **CARD,
        **{f"{f}_visibility": Visibility.NOBODY for f in ("post", "tel", "phone", "qq", "wechat")},
    )
    for viewer in (owner, UserFactory(is_staff=True, kind="staff")):
        row = by_id(make_client(viewer).get("/contacts/").json())[owner.id]
        assert {f: row[f] for f in CARD} == CARD


def test_search_finds_by_a_field_only_where_it_is_visible(client, me, department):
    colleague = UserFactory(department=department, phone="13911112222")
    stranger = UserFactory(department=DepartmentFactory(name="网络工程系"), phone="13911113333")
    found = by_id(client.get("/contacts/", {"search": "1391111"}).json())
    assert colleague.id in found
    assert stranger.id not in found  # mobile numbers are for colleagues and friends by default


def test_visibility_is_chosen_on_the_card_page(client, me):
    card = client.get("/current-user/meta/").json()
    assert {k: card[k] for k in card if k.endswith("_visibility")} == {
        "post_visibility": "everyone",
        "tel_visibility": "everyone",
        "email_visibility": "everyone",
        "phone_visibility": "colleagues",
        "qq_visibility": "colleagues",
        "wechat_visibility": "colleagues",
        "presence_visibility": "colleagues",  # issue 14: who sees whether I am online
    }
    # the client echoes the whole object back with its edits (C7)
    response = client.put(
        "/current-user/meta/", {**card, "phone": "13800000000", "phone_visibility": "nobody"}
    )
    assert response.status_code == 200
    assert response.json()["phone_visibility"] == "nobody"
    me.refresh_from_db()
    assert (me.phone, me.phone_visibility) == ("13800000000", "nobody")

    response = client.put("/current-user/meta/", {**card, "qq_visibility": "friends-only"})
    assert response.status_code == 400
    assert list(response.json()) == ["qq_visibility", "error_code"]


# --- Search and order -------------------------------------------------------------------------------


@pytest.fixture
def names(me):
    department = DepartmentFactory(name="软件工程系")
    people = {
        "张三": UserFactory(
            username="T2001", last_name="张", first_name="三", department=department, post="教学秘书"
        ),
        "张珊": UserFactory(username="T2002", last_name="张", first_name="珊", department=department),
        "单雄信": UserFactory(username="T2003", last_name="单", first_name="雄信", department=department),
        "曾国藩": UserFactory(username="T2004", last_name="曾", first_name="国藩", department=department),
        "解缙": UserFactory(username="T2005", last_name="解", first_name="缙", department=department),
        "Alice": UserFactory(username="T2006", last_name="", first_name="Alice", department=department),
        "": UserFactory(username="T2007", last_name="", first_name="", department=department),
    }
    return people


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("zs", {"张三", "张珊"}),
        ("zhangsan", {"张三"}),
        ("zhangshan", {"张珊"}),
        ("ZhangS", {"张三", "张珊"}),
        ("张三", {"张三"}),
        ("三", {"张三"}),
        ("sxx", {"单雄信"}),
        ("shanxiong", {"单雄信"}),
        ("zengguo", {"曾国藩"}),
        ("xiejin", {"解缙"}),
        ("教学秘书", {"张三"}),
        ("软件 zs", {"张三", "张珊"}),
        ("软件，秘书", {"张三"}),
        ("T2005", {"解缙"}),
    ],
)
def test_search_by_name_pinyin_initials_post_and_department(client, names, term, expected):
    ids = set(by_id(client.get("/contacts/", {"search": term}).json()))
    assert {name for name, user in names.items() if user.id in ids} == expected


@pytest.mark.parametrize(
    "params",
    [{"search": "软件"}, {}, {"page": "1"}],
    ids=["a search sorts its matches", "the whole directory walks the index", "a page of it"],
)
def test_order_is_letter_then_pinyin_then_number_with_unknown_letters_last(client, names, params):
    twin = UserFactory(username="T1999", last_name="张", first_name="三", department=names["张三"].department)
    shown = {user.id for user in names.values()} | {twin.id}
    body = [row for row in client.get("/contacts/", params).json() if row["user"] in shown]
    assert [row["user"] for row in body] == [
        names["Alice"].id,  # A
        names["单雄信"].id,  # S: shan, not D
        names["解缙"].id,  # X: xie, not J
        names["曾国藩"].id,  # Z: zeng… before zhang…
        twin.id,  # zhangsan, T1999
        names["张三"].id,  # zhangsan, T2001
        names["张珊"].id,  # zhangshan
        names[""].id,  # no name: "?" comes last
    ]
    assert [row["alpha"] for row in body] == ["A", "S", "X", "Z", "Z", "Z", "Z", "?"]


# --- Size and query count ---------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"my": "yes"}, {"my": "no"}, {"my": "no", "search": "1391 zs"}])
def test_contact_list_query_count_does_not_grow_with_the_list(
    client, me, department, params, django_assert_num_queries
):
    def add_people(n):
        for _ in range(n):
            owner = UserFactory(department=department, last_name="张", first_name="三", phone="13910000000")
            FriendshipFactory(user=me, friend=owner)
            FriendshipFactory(user=owner, friend=me)

    add_people(1)
    client.get("/contacts/", params)  # the token's last use is written at most once a minute
    # the token with its user, the viewer's friendships, the list
    with django_assert_num_queries(3) as first:
        one = client.get("/contacts/", params).json()
    add_people(6)
    with django_assert_num_queries(len(first.captured_queries)):
        many = client.get("/contacts/", params).json()
    assert len(many) == len(one) + 6


def test_the_bare_array_is_capped_and_says_so(client, me, settings):
    settings.DIRECTORY_CONTACTS_LIMIT = 3
    UserFactory.create_batch(3)
    response = client.get("/contacts/")
    assert len(response.json()) == 3
    assert response["X-Contacts-Truncated"] == "1"


def test_pages_on_request_stay_bare_arrays(client, me):
    UserFactory.create_batch(60)
    response = client.get("/contacts/", {"page": 2})
    assert response["X-Total-Count"] == "61"
    body = response.json()
    assert len(body) == 11
    assert set(body[0]) == CONTACT_KEYS
    assert client.get("/contacts/", {"page": 0}).status_code == 400


def test_departments_still_list(client, department):
    assert {"id": department.id, "name": department.name} in client.get(
        reverse("accounts:department-list")
    ).json()


# --- Issue 16 item 5: colleagues are the staff and teachers of one department ----------------------


def test_students_of_the_department_are_not_a_teachers_colleagues(make_client, department):
    """「同系所同事和我的好友」 fields of a teacher are not shown to the department's students."""
    teacher = UserFactory(department=department, kind="teacher", **CARD)  # phone: colleagues by default
    student = UserFactory(department=department, kind="student")
    staff_member = UserFactory(department=department, kind="staff")

    seen_by_student = by_id(make_client(student).get("/contacts/", {"my": "no"}).json())[teacher.id]
    assert seen_by_student["phone"] is None
    assert teacher.id not in by_id(make_client(student).get("/contacts/", {"search": CARD["phone"]}).json())
    assert teacher.id not in by_id(make_client(student).get("/contacts/", {"my": "yes"}).json())
    # the teachers and staff of the department are colleagues
    assert by_id(make_client(staff_member).get("/contacts/").json())[teacher.id]["phone"] == CARD["phone"]
    # a friend the teacher added still sees them, student or not
    FriendshipFactory(user=teacher, friend=student)
    assert by_id(make_client(student).get("/contacts/").json())[teacher.id]["phone"] == CARD["phone"]


def test_a_students_phone_is_not_shown_to_department_teachers_as_a_colleague(make_client, department, me):
    student = UserFactory(department=department, kind="student", phone="13922223333")
    assert by_id(make_client(me).get("/contacts/", {"my": "no"}).json())[student.id]["phone"] is None


def test_the_card_page_says_who_colleagues_are(client):
    schema = client.options("/current-user/meta/").json()
    text = str(schema)
    assert "同系所的教师和职工" in text
