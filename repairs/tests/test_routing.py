"""Who is mailed about a new request: the routing table of 故障报修 (and the original's W20)."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from repairs import selectors, services
from repairs.models import NotificationRecipient, RepairNotification
from wechathhu.core.errors import ApplicationError

from .factories import FaultCategoryFactory, RecipientFactory, RepairRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def table():
    network, power = FaultCategoryFactory(name="网络"), FaultCategoryFactory(name="电力")
    return {
        "network": network,
        "power": power,
        "net_fixer": RecipientFactory(name="网管", email="net@example.edu.cn", category=network),
        "electrician": RecipientFactory(name="电工", email="power@example.edu.cn", category=power),
        "office": RecipientFactory(name="办公室", email="office@example.edu.cn", category=None),
    }


def routed_emails(repair):
    return sorted(RepairNotification.objects.filter(request=repair).values_list("email", flat=True))


def test_a_categorised_request_goes_to_its_category_and_to_the_catch_all(table, user):
    repair = services.repair_request_create(
        user=user, location="教学楼201", description="断网", category=table["network"]
    )
    assert routed_emails(repair) == ["net@example.edu.cn", "office@example.edu.cn"]


def test_recipients_of_other_categories_are_not_mailed(table, user):
    repair = services.repair_request_create(
        user=user, location="实验楼", description="停电", category=table["power"]
    )
    assert "net@example.edu.cn" not in routed_emails(repair)


def test_a_request_without_category_still_reaches_the_catch_all_recipients(table, user):
    repair = services.repair_request_create(user=user, location="图书馆", description="漏水", category=None)
    assert routed_emails(repair) == ["office@example.edu.cn"]


def test_without_any_recipient_the_request_is_saved_and_nothing_is_routed(user):
    category = FaultCategoryFactory()
    repair = services.repair_request_create(
        user=user, location="图书馆", description="漏水", category=category
    )
    assert repair.pk and routed_emails(repair) == []


def test_someone_listed_for_the_category_and_as_catch_all_gets_one_mail(table, user):
    RecipientFactory(name="网管", email="NET@example.edu.cn", category=None)
    repair = services.repair_request_create(
        user=user, location="教学楼", description="断网", category=table["network"]
    )
    assert [e.lower() for e in routed_emails(repair)] == ["net@example.edu.cn", "office@example.edu.cn"]
    # The category-specific entry wins, so the row points at it.
    assert (
        RepairNotification.objects.get(request=repair, email__iexact="net@example.edu.cn").recipient
        == table["net_fixer"]
    )


def test_deleting_a_category_with_recipients_is_refused_and_they_stay_category_specific(table):
    with pytest.raises(ProtectedError):
        table["network"].delete()
    table["net_fixer"].refresh_from_db()
    assert table["net_fixer"].category == table["network"]
    assert [r.email for r in selectors.recipient_route(category_id=None)] == ["office@example.edu.cn"]


def test_deleting_a_category_with_requests_is_refused(table):
    table["net_fixer"].delete()
    RepairRequestFactory(category=table["network"])
    with pytest.raises(ProtectedError):
        table["network"].delete()


def test_a_category_without_recipients_or_requests_can_be_deleted(table):
    table["net_fixer"].delete()
    table["network"].delete()
    assert sorted(r.email for r in selectors.recipient_route(category_id=None)) == ["office@example.edu.cn"]


def test_a_retired_category_still_routes_its_existing_requests_but_takes_no_new_ones(table, user):
    table["network"].is_active = False
    table["network"].save()
    assert [r.email for r in selectors.recipient_route(category_id=table["network"].pk)] == [
        "net@example.edu.cn",
        "office@example.edu.cn",
    ]
    with pytest.raises(ApplicationError, match="停用"):
        services.repair_request_create(user=user, location="x", description="y", category=table["network"])


def test_the_same_address_cannot_be_listed_twice_in_one_category(table):
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationRecipient.objects.create(
            name="网管2", email="net@example.edu.cn", category=table["network"]
        )


def test_the_same_address_cannot_be_listed_twice_as_catch_all(table):
    duplicate = NotificationRecipient(name="办公室2", email="office@example.edu.cn", category=None)
    with pytest.raises(Exception, match="已登记"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_an_address_may_be_listed_for_several_categories(table):
    NotificationRecipient.objects.create(name="网管", email="net@example.edu.cn", category=table["power"])
    assert NotificationRecipient.objects.filter(email="net@example.edu.cn").count() == 2
