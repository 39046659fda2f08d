"""The directory search's index (``accounts.search``): kept as users and departments change, read
by the contacts search and the user search, never deciding what a viewer finds."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import search
from accounts.models import DirectoryTerm, User
from accounts.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def me():
    return UserFactory(
        username="T0001", last_name="王", first_name="五", department=DepartmentFactory(name="人事处")
    )


@pytest.fixture
def client(make_client, me):
    return make_client(me)


def found(client, term: str) -> set[int]:
    return {row["user"] for row in client.get("/contacts/", {"search": term}).json()}


def test_terms_are_bigrams_and_last_characters_of_normalised_runs():
    assert search.text_terms("张三丰", "ＱＱ-1a") == {"张三", "三丰", "丰", "qq", "q", "1a", "a"}
    assert search.text_terms("José") == {"jo", "os", "se", "e"}  # accents dropped
    assert search.query_parts("张三") == [("exact", "张三")]
    assert search.query_parts("三") == [("prefix", "三")]
    assert search.query_parts("139-1111") == [("exact", "13"), ("exact", "39"), ("exact", "11")]
    assert search.query_parts("-") == []


def test_a_user_written_without_terms_is_found_once_the_index_is_rebuilt(client):
    """The search reads the index: a user inserted in bulk (no save, no terms) is not found until
    ``manage.py rebuild_directory_search`` — which is why the bench and the migration build it."""
    (bulk,) = User.objects.bulk_create(
        [User(username="T0900", last_name="欧阳", first_name="修", post="教授")]
    )
    assert bulk.pk not in found(client, "欧阳修")
    call_command("rebuild_directory_search")
    assert bulk.pk in found(client, "欧阳修")
    assert bulk.pk in found(client, "阳")  # a single character: the terms starting with it
    assert bulk.pk in found(client, "教授")


def test_a_changed_name_and_card_are_found_by_their_new_texts_only(client, make_client):
    user = UserFactory(
        last_name="李", first_name="四", post="讲师", department=DepartmentFactory(name="数学系")
    )
    own = make_client(user)
    assert own.put("/current-user/", {"first_name": "思远", "last_name": "李"}).status_code == 200
    card = own.get("/current-user/meta/").json()
    assert own.put("/current-user/meta/", {**card, "post": "副教授", "tel": "025-1234"}).status_code == 200

    assert user.pk in found(client, "李思远")
    assert user.pk in found(client, "lsy")
    assert user.pk in found(client, "副教授")
    assert user.pk in found(client, "025-1234")
    assert user.pk not in found(client, "李四")


def test_a_renamed_department_is_found_by_its_new_name(client, me):
    department = DepartmentFactory(name="物理系")
    member = UserFactory(department=department)
    department.name = "应用物理学院"
    department.save()
    assert member.pk in found(client, "应用物理")
    assert member.pk not in found(client, "物理系")

    with CaptureQueriesContext(connection) as seen:
        department.save()  # not renamed: its users' terms stay as they are
    assert not [q for q in seen.captured_queries if "directoryterm" in q["sql"]]


def test_only_other_fields_saved_leave_the_terms_alone(me):
    user = User.objects.get(pk=me.pk)
    with CaptureQueriesContext(connection) as seen:
        user.save(update_fields=["last_seen_at"])
    assert not [q for q in seen.captured_queries if "directoryterm" in q["sql"]]
    with CaptureQueriesContext(connection) as seen:
        user.save(update_fields=["post"])
    assert [q for q in seen.captured_queries if "directoryterm" in q["sql"]]
    assert DirectoryTerm.objects.filter(user=me, term="王五").exists()


def test_a_hidden_field_indexed_still_finds_nobody(make_client, me):
    """The index holds every text, hidden or not: a match only through a hidden field is no match."""
    owner = UserFactory(phone="13977778888", phone_visibility="nobody")
    assert owner.pk not in found(make_client(me), "13977778888")
    assert owner.pk in found(make_client(owner), "13977778888")


def test_the_user_search_reads_the_index_too(make_client, me):
    UserFactory(username="T2005", last_name="解", first_name="缙")
    client = make_client(me)
    assert [
        row["user_meta"]["username"] for row in client.get("/users/search/", {"q": "T200"}).json()["results"]
    ] == ["T2005"]
    assert [
        row["user_meta"]["username"]
        for row in client.get("/users/search/", {"q": "xiejin"}).json()["results"]
    ] == ["T2005"]
