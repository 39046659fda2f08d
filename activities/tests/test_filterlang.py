"""The clock-in filter language: a grammar table, error positions, and SQL == plain evaluator."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from activities.filterlang import And, FilterError, Label, evaluate, parse, validate_label
from activities.models import Enrollment
from activities.selectors import enrollment_clockin_filter_q, enrollment_list_for_activity
from activities.tests.factories import (
    ActivityFactory,
    ClockinItemFactory,
    ClockinRecordFactory,
    EnrollmentFactory,
)

LABELS = ("签到", "签退", "午餐")
# Who clocked in to what: the people of the grammar table.
PEOPLE = {
    "none": set(),
    "in": {"签到"},
    "out": {"签退"},
    "in_out": {"签到", "签退"},
    "in_lunch": {"签到", "午餐"},
    "all": {"签到", "签退", "午餐"},
}

VALID = [
    ("签到", {"in", "in_out", "in_lunch", "all"}),
    ("签到了但未签退", {"in", "in_lunch"}),
    ("签到的", {"in", "in_out", "in_lunch", "all"}),
    ("签到且签退", {"in_out", "all"}),
    ("签到 签退", {"in_out", "all"}),  # implicit AND between adjacent terms
    ("签到签退", {"in_out", "all"}),  # … with no space: labels by longest match (issue 16 item 6)
    ("签到未签退午餐", {"in_lunch"}),
    ("签到或签退", {"in", "out", "in_out", "in_lunch", "all"}),
    ("未签到", {"none", "out"}),
    ("未未签到", {"in", "in_out", "in_lunch", "all"}),
    ("签到未签退", {"in", "in_lunch"}),
    ("签到且未签退或午餐", {"in", "in_lunch", "all"}),  # AND binds tighter than OR
    ("签到且(未签退或午餐)", {"in", "in_lunch", "all"}),
    ("（签到或签退）未午餐", {"in", "out", "in_out"}),  # implicit AND after a parenthesis
    ("(签到或签退)(签退或午餐)", {"out", "in_out", "in_lunch", "all"}),
    ("签到(签退)", {"in_out", "all"}),
    ("未(签到或签退)", {"none"}),
    ("  签到  ", {"in", "in_out", "in_lunch", "all"}),
    ("签到了或签退了但未午餐的", {"in", "out", "in_out", "in_lunch", "all"}),
    ("签退了但未午餐", {"out", "in_out"}),
]

INVALID = [
    ("签到或", 3, "「或」之后缺少打卡项"),
    ("或签到", 0, "「或」之前缺少打卡项"),
    ("未", 1, "「未」之后缺少打卡项"),
    ("(签到", 0, "缺少与之对应的右括号"),
    ("签到)", 2, "多余的右括号"),
    ("签到（）", 3, "括号内缺少打卡项"),
    ("签到或签推", 3, "没有名为「签推」的打卡项"),
    ("签到签推", 2, "没有名为「签推」的打卡项"),  # 签到 is read, the rest is named
    ("签到且且签退", 3, "「且」之前缺少打卡项"),
    ("了的但", 3, "表达式中没有打卡项"),
]


@pytest.mark.parametrize(("expression", "expected"), VALID)
def test_valid_expression_matches(expression, expected):
    tree = parse(expression, known_labels=LABELS)
    assert {name for name, labels in PEOPLE.items() if evaluate(tree, labels)} == expected


@pytest.mark.parametrize(("expression", "position", "reason"), INVALID)
def test_invalid_expression_points_at_the_mistake(expression, position, reason):
    with pytest.raises(FilterError) as caught:
        parse(expression, known_labels=LABELS)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert caught.value.message.startswith(f"第 {position + 1} 个字符处：")
    assert "【" in caught.value.marked


def test_empty_or_blank_expression_filters_nothing():
    assert parse("", known_labels=LABELS) is None
    assert parse("   ", known_labels=LABELS) is None


def test_too_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(FilterError, match="嵌套过深"):
        parse("(" * 60 + "签到" + ")" * 60, known_labels=LABELS)


@pytest.mark.parametrize("label", ["签到了", "上午 签到", "未到", "(A)", "的", "但是", ""])
def test_labels_with_operator_characters_are_refused(label):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_label(label)


def test_plain_labels_are_accepted():
    validate_label("签到")
    validate_label("Day1-入场")


# --- The SQL compilation agrees with the plain evaluator -----------------------------------------

labels_st = st.sampled_from(LABELS)


def _expressions():
    leaf = labels_st
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a: f"未{a}", inner),
            st.builds(lambda a, b: f"{a}且{b}", inner, inner),
            st.builds(lambda a, b: f"{a}或{b}", inner, inner),
            st.builds(lambda a, b: f"{a} {b}", inner, inner),
            st.builds(lambda a: f"({a})", inner),
            st.builds(lambda a: f"（{a}）", inner),
            st.builds(lambda a, b: f"{a}了但{b}", inner, inner),
        ),
        max_leaves=8,
    )


@pytest.fixture
def population(db):
    activity = ActivityFactory()
    items = {label: ClockinItemFactory(activity=activity, label=label) for label in LABELS}
    expected = {}
    for name, labels in PEOPLE.items():
        user = UserFactory(username=f"P-{name}")
        enrollment = EnrollmentFactory(activity=activity, user=user)
        for label in labels:
            ClockinRecordFactory(item=items[label], user=user, enrollment=enrollment)
        expected[enrollment.pk] = labels
    # Someone in another activity with the same labels must never leak in.
    other = ClockinItemFactory(label="签到")
    ClockinRecordFactory(item=other, user=UserFactory())
    return activity, expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=_expressions())
def test_sql_agrees_with_the_plain_evaluator(population, expression):
    activity, people = population
    tree = parse(expression, known_labels=LABELS)
    expected = {pk for pk, labels in people.items() if evaluate(tree, labels)}

    found = set(
        enrollment_list_for_activity(activity_id=activity.pk, expression=expression).values_list(
            "pk", flat=True
        )
    )

    assert found == expected


def test_the_filter_is_one_query(population, django_assert_num_queries):
    activity, people = population
    condition = enrollment_clockin_filter_q("(签到或签退)且未午餐", known_labels=LABELS)
    with django_assert_num_queries(1):
        found = set(
            Enrollment.objects.filter(activity=activity).filter(condition).values_list("pk", flat=True)
        )
    assert found == {
        pk for pk, labels in people.items() if labels & {"签到", "签退"} and "午餐" not in labels
    }


def test_adjacent_labels_split_by_longest_match():
    """Issue 16 item 6: a run of label characters is split into known labels, longest first."""
    known = {"签到", "签退", "签到补录"}
    assert parse("签到签退", known_labels=known) == And(Label("签到", 0), Label("签退", 2))
    assert parse("签到补录签退", known_labels=known) == And(Label("签到补录", 0), Label("签退", 4))
    assert parse("签到补录", known_labels=known) == Label("签到补录", 0)
    with pytest.raises(FilterError) as error:
        parse("签到签推", known_labels=known)
    assert error.value.position == 2 and "签推" in error.value.reason
