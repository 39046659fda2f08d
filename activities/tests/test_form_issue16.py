"""Issue 16 items 1 and 15: the enrollment form as the unchanged mini-program reads it, and number
answers/limits bounded before any conversion."""

import json
import time

import pytest
from django.core.exceptions import ValidationError

from activities.form_schema import (
    CLIENT_TYPES,
    answers_validate,
    form_schema_validate,
)
from activities.models import Enrollment
from activities.tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db

RICH = {
    "姓名": {"type": "text", "required": True},
    "生日": {"type": "date", "min": "1950-01-01"},
    "手机": {"type": "phone", "required": True},
    "邮箱": {"type": "email", "help": "用于接收通知"},
    "年龄": {"type": "number", "min": 16},
}


# --- Item 1 -------------------------------------------------------------------------------------


def test_served_form_uses_only_the_five_types_with_the_richer_kind_in_format(api_client):
    activity = ActivityFactory(form_metas=json.dumps(RICH, ensure_ascii=False))

    served = json.loads(api_client.get(f"/activities/{activity.pk}/").json()["form_metas"])

    assert {rules["type"] for rules in served.values()} <= CLIENT_TYPES
    assert list(served) == list(RICH)  # the order is the form's
    assert served["生日"] == {"type": "text", "format": "date", "min": "1950-01-01"}
    assert served["手机"] == {"type": "text", "format": "phone", "required": True}
    assert served["邮箱"] == {"type": "text", "format": "email", "help": "用于接收通知"}
    assert served["年龄"] == {"type": "number", "min": 16}


def test_enrolling_in_a_form_with_a_required_phone_as_the_old_client_does(api_client):
    activity = ActivityFactory(form_metas=json.dumps(RICH, ensure_ascii=False))
    answers = {"姓名": "张三", "手机": "13800000000", "生日": "2001-02-03", "年龄": "20"}

    response = api_client.post(
        "/enrollments/",
        {"activity": activity.pk, "participating_metas": json.dumps(answers, ensure_ascii=False)},
        format="json",
    )

    assert response.status_code == 201, response.content
    # validation unchanged: a bad phone is still refused
    other = ActivityFactory(form_metas=json.dumps(RICH, ensure_ascii=False))
    bad = {**answers, "手机": "not a phone"}
    response = api_client.post(
        "/enrollments/", {"activity": other.pk, "participating_metas": json.dumps(bad)}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["电话号码不合法（字段：手机）"]


def test_a_form_written_with_format_is_stored_with_its_kind():
    schema = form_schema_validate({"手机": {"type": "text", "format": "phone", "required": True}})
    assert schema == {"手机": {"type": "phone", "required": True}}
    with pytest.raises(ValidationError):
        form_schema_validate({"手机": {"type": "number", "format": "phone"}})
    with pytest.raises(ValidationError):
        form_schema_validate({"手机": {"type": "text", "format": "colour"}})


# --- Item 15 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["1e1000000", "1e4300", "-1e4300", "9" * 5000, "1" + "0" * 20, 1e308 * 10, 10**40, "1e-1000000", "0x10"],
)
def test_absurd_numbers_are_refused_fast(value):
    started = time.perf_counter()
    with pytest.raises(ValidationError) as error:
        answers_validate({"学号": {"type": "number"}}, {"学号": value})
    assert time.perf_counter() - started < 0.5
    assert error.value.messages == ["数字不合法（字段：学号）"]


def test_plain_numbers_still_pass():
    schema = {"学号": {"type": "number"}}
    assert answers_validate(schema, {"学号": "2001"}) == {"学号": 2001}
    assert answers_validate(schema, {"学号": "1.5e3"}) == {"学号": 1500}
    assert answers_validate(schema, {"学号": "-0.25"}) == {"学号": -0.25}
    assert answers_validate(schema, {"学号": "123456789012"}) == {"学号": 123456789012}


def test_a_huge_exponent_through_the_api_is_a_400_quickly(api_client):
    activity = ActivityFactory()
    answers = {"姓名": "张三", "学号": "1e1000000", "爱好": ["编程"]}
    started = time.perf_counter()
    response = api_client.post(
        "/enrollments/", {"activity": activity.pk, "participating_metas": answers}, format="json"
    )
    assert time.perf_counter() - started < 2
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["数字不合法（字段：学号）"]
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize(
    "rules",
    [
        {"type": "number", "max": 1e309},
        {"type": "number", "min": float("-inf")},
        {"type": "number", "max": 10**40},
        {"type": "number", "default": "1e1000000"},
        {"type": "number", "default": 1e309},
        {"type": "text", "max": 10**40},
        {"type": "checkbox", "choices": ["a"], "max": 10**40},
    ],
)
def test_staff_set_limits_and_defaults_are_bounded_the_same_way(rules):
    started = time.perf_counter()
    with pytest.raises(ValidationError):
        form_schema_validate({"学号": rules})
    assert time.perf_counter() - started < 0.5


def test_a_stored_infinite_limit_is_never_served_as_invalid_json(api_client):
    activity = ActivityFactory(form_metas='{"学号": {"type": "number", "max": Infinity}}')
    response = api_client.get(f"/activities/{activity.pk}/")
    assert response.status_code == 200
    served = response.json()["form_metas"]
    assert "Infinity" not in served
    assert json.loads(served) == {"学号": {"type": "number"}}
