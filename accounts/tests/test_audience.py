"""accounts.selectors.audience_user_ids: any mix of audiences to active user ids, in one query."""

import time

import pytest

from accounts.models import GroupMembership, User, UserKind
from accounts.selectors import audience_user_ids
from accounts.tests.factories import (
    CampusGroupFactory,
    DepartmentFactory,
    GroupMembershipFactory,
    SchoolClassFactory,
    StudentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def campus():
    cs, se = DepartmentFactory(name="计算机科学与技术系"), DepartmentFactory(name="软件工程系")
    class_a, class_b = SchoolClassFactory(department=cs), SchoolClassFactory(department=se)
    people = {
        "teacher_cs": UserFactory(department=cs),
        "teacher_se": UserFactory(department=se),
        "staff": UserFactory(department=None, kind=UserKind.STAFF),
        "student_a1": StudentFactory(department=cs, school_class=class_a),
        "student_a2": StudentFactory(department=cs, school_class=class_a),
        "student_b1": StudentFactory(department=se, school_class=class_b),
        "left_a": StudentFactory(department=cs, school_class=class_a, is_active=False),
        "pending": UserFactory(department=cs, is_active=False),
    }
    union = CampusGroupFactory(name="学生会")
    for name in ("student_a1", "student_b1", "left_a", "teacher_se"):
        GroupMembershipFactory(group=union, user=people[name])
    return {"cs": cs, "se": se, "class_a": class_a, "class_b": class_b, "union": union, **people}


def resolve(**kwargs):
    return list(audience_user_ids(**kwargs))


def ids(campus, *names):
    return sorted(campus[n].id for n in names)


def test_each_kind_of_audience_alone(campus):
    assert resolve(user_ids=[campus["staff"].id]) == ids(campus, "staff")
    assert resolve(department_ids=[campus["cs"].id]) == ids(campus, "teacher_cs", "student_a1", "student_a2")
    assert resolve(class_ids=[campus["class_a"].id]) == ids(campus, "student_a1", "student_a2")
    assert resolve(group_ids=[campus["union"].id]) == ids(campus, "student_a1", "student_b1", "teacher_se")
    assert resolve(kinds=[UserKind.STUDENT]) == ids(campus, "student_a1", "student_a2", "student_b1")


def test_a_mix_is_the_union_with_overlaps_once_and_inactive_never(campus):
    result = resolve(
        user_ids=[campus["staff"].id, campus["student_a1"].id, campus["left_a"].id],
        department_ids=[campus["se"].id],
        class_ids=[campus["class_a"].id],
        group_ids=[campus["union"].id],
        kinds=[UserKind.STAFF],
    )
    assert result == ids(campus, "staff", "student_a1", "student_a2", "student_b1", "teacher_se")
    assert len(result) == len(set(result))


def test_everyone_is_every_active_user_whatever_else_is_given(campus):
    everyone = ids(campus, "teacher_cs", "teacher_se", "staff", "student_a1", "student_a2", "student_b1")
    assert resolve(everyone=True) == everyone
    assert resolve(everyone=True, class_ids=[campus["class_b"].id]) == everyone


def test_nothing_asked_is_nobody(campus):
    assert resolve() == []
    assert resolve(user_ids=[], group_ids=()) == []
    assert resolve(user_ids=[987654321]) == []


def test_accepts_any_iterable_and_repeated_ids(campus):
    result = resolve(
        user_ids=(i for i in [campus["staff"].id, campus["staff"].id]),
        class_ids={campus["class_b"].id},
        kinds=[UserKind.STAFF, UserKind.STAFF],
    )
    assert result == ids(campus, "staff", "student_b1")


def test_one_query_even_as_a_sub_query(campus, django_assert_num_queries):
    with django_assert_num_queries(1):
        resolve(user_ids=[campus["staff"].id], group_ids=[campus["union"].id], kinds=[UserKind.TEACHER])
    with django_assert_num_queries(1):
        users = list(
            User.objects.filter(pk__in=audience_user_ids(group_ids=[campus["union"].id])).values_list(
                "username", flat=True
            )
        )
    assert len(users) == 3


@pytest.mark.mariadb
def test_fifty_thousand_users_resolve_well_under_a_second():
    departments = [DepartmentFactory(name=f"系{i}") for i in range(20)]
    classes = [SchoolClassFactory(department=departments[i % 20]) for i in range(200)]
    group = CampusGroupFactory()
    users = [
        User(
            username=f"S{3000000 + i}",
            kind=UserKind.STUDENT if i % 10 else UserKind.TEACHER,
            department=departments[i % 20],
            school_class=classes[i % 200] if i % 10 else None,
            is_active=i % 50 != 0,
        )
        for i in range(50_000)
    ]
    User.objects.bulk_create(users, batch_size=5000)
    members = list(User.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    GroupMembership.objects.bulk_create([GroupMembership(group=group, user_id=pk) for pk in members])

    started = time.monotonic()
    result = list(
        audience_user_ids(
            user_ids=members[:500],
            department_ids=[d.id for d in departments[:3]],
            class_ids=[c.id for c in classes[:40]],
            group_ids=[group.id],
            kinds=[UserKind.TEACHER],
        )
    )
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"took {elapsed:.2f}s"
    assert len(result) == len(set(result)) > 10_000


def test_managed_audiences_of_a_counsellor_head_teacher_and_group_manager(campus, django_assert_num_queries):
    from accounts.selectors import user_managed_audiences

    teacher = campus["teacher_cs"]
    campus["class_a"].counsellors.add(teacher)
    campus["class_b"].head_teacher = teacher
    campus["class_b"].save()
    GroupMembershipFactory(group=campus["union"], user=teacher, is_manager=True)
    GroupMembershipFactory(group=CampusGroupFactory(), user=teacher, is_manager=False)
    with django_assert_num_queries(2):
        managed = user_managed_audiences(user=teacher)
    assert managed.class_ids == {campus["class_a"].id, campus["class_b"].id}
    assert managed.group_ids == {campus["union"].id}
    assert user_managed_audiences(user=campus["staff"]).class_ids == frozenset()
