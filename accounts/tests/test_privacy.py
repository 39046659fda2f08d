"""accounts.privacy.ContactVisibility: the reusable rule for other domains (one query at most)."""

import pytest

from accounts.models import User, Visibility
from accounts.privacy import PRIVACY_COLUMNS, PRIVATE_FIELDS, ContactVisibility
from accounts.tests.factories import DepartmentFactory, FriendshipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    return UserFactory(department=DepartmentFactory(name="软件工程系"))


def test_at_most_one_query_whatever_the_number_of_owners(viewer, django_assert_num_queries):
    owners = UserFactory.create_batch(5, phone="13900000000", department=DepartmentFactory(name="网络工程系"))
    FriendshipFactory(user=owners[0], friend=viewer)
    FriendshipFactory(user=viewer, friend=owners[1])
    rows = list(
        User.objects.filter(pk__in=[o.pk for o in owners]).only(*PRIVACY_COLUMNS, "phone").order_by("pk")
    )
    with django_assert_num_queries(1):
        visibility = ContactVisibility(viewer)
        values = [visibility.value(owner, "phone") for owner in rows]
        friends = [visibility.is_friend(owner) for owner in rows]
    assert values == ["13900000000", None, None, None, None]
    assert friends == [False, True, False, False, False]


def test_staff_see_everything_without_a_query(django_assert_num_queries):
    staff = UserFactory(is_staff=True, kind="staff")
    owner = UserFactory(qq="123", qq_visibility=Visibility.NOBODY)
    with django_assert_num_queries(0):
        assert ContactVisibility(staff).value(owner, "qq") == "123"


@pytest.mark.parametrize(
    ("rule", "stranger", "colleague", "trusted_friend", "self_"),
    [
        (Visibility.EVERYONE, True, True, True, True),
        (Visibility.COLLEAGUES, False, True, True, True),
        (Visibility.NOBODY, False, False, False, True),
    ],
)
def test_each_rule_for_each_kind_of_viewer(rule, stranger, colleague, trusted_friend, self_):
    department = DepartmentFactory(name="计算机科学与技术系")
    owner = UserFactory(department=department, wechat="wx-1", wechat_visibility=rule)
    friend = UserFactory(department=DepartmentFactory(name="人工智能系"))
    FriendshipFactory(user=owner, friend=friend)
    viewers = {
        "stranger": (UserFactory(department=None), stranger),
        "colleague": (UserFactory(department=department), colleague),
        "trusted_friend": (friend, trusted_friend),
        "self": (owner, self_),
    }
    for name, (viewer, expected) in viewers.items():
        visibility = ContactVisibility(viewer)
        assert visibility.can_see(owner, "wechat") is expected, name
        assert visibility.value(owner, "wechat") == ("wx-1" if expected else None), name
        # the SQL form of the rule agrees with the Python one
        in_sql = User.objects.filter(visibility.visible_q("wechat"), pk=owner.pk).exists()
        assert in_sql is expected, name


def test_no_department_is_nobody_s_colleague():
    owner = UserFactory(department=None, phone="139", phone_visibility=Visibility.COLLEAGUES)
    viewer = UserFactory(department=None)
    assert ContactVisibility(viewer).value(owner, "phone") is None
    assert not User.objects.filter(ContactVisibility(viewer).visible_q("phone"), pk=owner.pk).exists()


def test_defaults_follow_the_issue():
    user = UserFactory()
    assert {f: getattr(user, f"{f}_visibility") for f in PRIVATE_FIELDS} == {
        "post": "everyone",
        "tel": "everyone",
        "email": "everyone",
        "phone": "colleagues",
        "qq": "colleagues",
        "wechat": "colleagues",
    }


def test_unknown_fields_are_a_programming_error(viewer):
    with pytest.raises(ValueError, match="description"):
        ContactVisibility(viewer).value(viewer, "description")


def test_visible_q_works_through_a_relation(viewer):
    """Other domains filter their own rows by the owner's rule, e.g. memberships by ``user__``."""
    from accounts.models import GroupMembership
    from accounts.tests.factories import GroupMembershipFactory

    shown = GroupMembershipFactory(user=UserFactory(qq="1", qq_visibility=Visibility.EVERYONE))
    GroupMembershipFactory(user=UserFactory(qq="2", qq_visibility=Visibility.NOBODY))
    rule = ContactVisibility(viewer).visible_q("qq", prefix="user__")
    assert list(GroupMembership.objects.filter(rule)) == [shown]


def test_the_whole_card_at_once_is_each_field_s_value():
    """``card`` (the directory's fast path) agrees with ``value`` for every mix of rules and viewers."""
    department = DepartmentFactory(name="计算机科学与技术系")
    rules = [Visibility.EVERYONE, Visibility.COLLEAGUES, Visibility.NOBODY]
    owners = [
        UserFactory(
            department=department if i % 2 else None,
            **{field: f"{field}-{i}" for field in PRIVATE_FIELDS},
            **{f"{field}_visibility": rules[(i + k) % 3] for k, field in enumerate(PRIVATE_FIELDS)},
        )
        for i in range(6)
    ]
    trusting = owners[2]
    viewers = [
        UserFactory(department=None),
        UserFactory(department=department),
        UserFactory(is_staff=True),
        owners[0],
    ]
    FriendshipFactory(user=trusting, friend=viewers[0])
    for viewer in viewers:
        visibility = ContactVisibility(viewer)
        for owner in owners:
            assert visibility.card(owner) == {
                field: visibility.value(owner, field) for field in PRIVATE_FIELDS
            }
    # The cases are really mixed: a "colleagues" field shown to a trusted stranger, not to another.
    stranger = ContactVisibility(viewers[0])
    assert (trusting.email_visibility, owners[5].email_visibility) == (Visibility.COLLEAGUES,) * 2
    assert (stranger.card(trusting)["email"], stranger.card(owners[5])["email"]) == ("email-2", None)
