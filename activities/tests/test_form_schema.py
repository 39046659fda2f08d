"""Enrollment form schemas (validated on save) and answers (validated on enrollment)."""

import pytest
from django.core.exceptions import ValidationError

from activities.form_schema import answers_parse, answers_validate, form_schema_validate

SCHEMA = {
    "姓名": {"type": "text", "required": True, "max": 10},
    "简介": {"type": "textarea"},
    "年龄": {"type": "number", "min": 16, "max": 80},
    "性别": {"type": "radio", "choices": ["男", "女"], "default": "男"},
    "爱好": {"type": "checkbox", "choices": ["编程", "音乐", "运动"], "required": True, "max": 2},
    "生日": {"type": "date", "min": "1950-01-01", "max": "2015-12-31"},
    "手机": {"type": "phone"},
    "邮箱": {"type": "email", "help": "用于接收通知"},
}


def ok(**answers):
    return answers_validate(SCHEMA, {"姓名": "张三", "爱好": ["编程"], **answers})


def test_answers_are_cleaned_and_defaults_filled():
    assert ok(年龄="20", 生日="2001-02-03", 手机="138 0000 0000", 邮箱=" a@b.cn ") == {
        "姓名": "张三",
        "简介": "",
        "年龄": 20,
        "性别": "男",
        "爱好": ["编程"],
        "生日": "2001-02-03",
        "手机": "138 0000 0000",
        "邮箱": "a@b.cn",
    }


@pytest.mark.parametrize("age", ["20", 20, 20.0, " 20 ", "17.5", 17.5])
def test_numbers_as_strings_or_json_numbers(age):
    assert ok(年龄=age)["年龄"] == float(str(age).strip())


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"姓名": ""}, "必填项姓名不得为空。（字段：姓名）"),
        ({"爱好": []}, "必填项爱好不得为空。（字段：爱好）"),
        ({"年龄": "abc"}, "数字不合法（字段：年龄）"),
        ({"年龄": True}, "数字不合法（字段：年龄）"),
        ({"年龄": "NaN"}, "数字不合法（字段：年龄）"),
        ({"年龄": "15"}, "数字不得小于 16（字段：年龄）"),
        ({"年龄": 81}, "数字不得大于 80（字段：年龄）"),
        ({"性别": "其他"}, "单选项不合法（字段：性别）"),
        ({"爱好": "编程"}, "多选项不合法（字段：爱好）"),
        ({"爱好": ["编程", "绘画"]}, "多选项不合法（字段：爱好）"),
        ({"爱好": ["编程", "音乐", "运动"]}, "最多选择 2 项（字段：爱好）"),
        ({"姓名": "张" * 11}, "最多填写 10 个字（字段：姓名）"),
        ({"姓名": 123}, "文本不合法（字段：姓名）"),
        ({"生日": "2001/02/03"}, "日期不合法，应为 YYYY-MM-DD（字段：生日）"),
        ({"生日": "2020-01-01"}, "日期不得晚于 2015-12-31（字段：生日）"),
        ({"手机": "电话"}, "电话号码不合法（字段：手机）"),
        ({"邮箱": "not-an-email"}, "电子邮箱不合法（字段：邮箱）"),
        ({"未知": "x"}, "报名表单中没有该字段（字段：未知）"),
    ],
)
def test_bad_answers_are_refused_with_the_field_named(answers, message):
    with pytest.raises(ValidationError) as caught:
        ok(**answers)
    assert caught.value.messages == [message]


@pytest.mark.parametrize("raw", ["", "[]", "not json", "123", None, ["a"]])
def test_answers_must_be_an_object(raw):
    with pytest.raises(ValidationError, match="报名失败：报名表单不合法。"):
        answers_parse(raw)


def test_answers_as_a_json_string_or_an_object():
    assert answers_parse('{"a": 1}') == {"a": 1}
    assert answers_parse({"a": 1}) == {"a": 1}


def test_a_full_schema_is_valid_and_keeps_its_order():
    assert list(form_schema_validate(SCHEMA)) == list(SCHEMA)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("{", "不是合法的 JSON"),
        ("[]", "必须是一个 JSON 对象"),
        ({"a": {"type": "select"}}, "类型不合法"),
        ({"a": {"type": "text", "requird": True}}, "未知的属性：requird"),
        ({"a": {"type": "radio"}}, "选项必须是非空的文字列表"),
        ({"a": {"type": "radio", "choices": ["x", "x"]}}, "选项不能重复"),
        ({"a": {"type": "text", "choices": ["x"]}}, "只有单选、多选字段可以设置选项"),
        ({"a": {"type": "number", "min": 5, "max": 1}}, "最小值不能大于最大值"),
        ({"a": {"type": "text", "min": -1}}, "不小于 0 的整数"),
        ({"a": {"type": "phone", "max": 3}}, "不支持最小/最大值"),
        ({"a": {"type": "date", "min": "昨天"}}, "YYYY-MM-DD"),
        ({"a": {"type": "radio", "choices": ["x"], "default": "y"}}, "默认值不合法"),
        ({"a": {"type": "text", "required": "yes"}}, "required 必须是 true 或 false"),
        ({" a": {"type": "text"}}, "字段名「 a」不合法"),
        ({"a": "text"}, "定义必须是一个对象"),
    ],
)
def test_bad_schemas_are_refused(schema, message):
    import json

    raw = schema if isinstance(schema, str) else json.dumps(schema, ensure_ascii=False)
    with pytest.raises(ValidationError) as caught:
        form_schema_validate(raw)
    assert message in caught.value.messages[0]


def test_empty_schema_means_no_questions():
    assert form_schema_validate("") == {}
    assert answers_validate({}, {}) == {}
