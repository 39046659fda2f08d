"""Enrollment forms: the schema staff build (``form_metas``) and the answers people send.

The schema is a JSON object mapping each field's label to its rules, in display order::

    {"姓名": {"type": "text", "required": true, "max": 20, "help": "请填写真实姓名"},
     "年龄": {"type": "number", "min": 16, "max": 80},
     "性别": {"type": "radio", "choices": ["男", "女"], "default": "男"},
     "爱好": {"type": "checkbox", "choices": ["编程", "音乐"], "default": [], "max": 2}}

Types: text, textarea (min/max = length), number (min/max = value), radio, checkbox (min/max =
how many are ticked), date (``YYYY-MM-DD``, min/max = dates), phone, email. Keys: type, required,
default, choices, min, max, help. Anything else is refused, so a typo never passes silently.

The unchanged mini-program renders only text, number, textarea, radio and checkbox (any other type
is a label without an input). Clients are served ``form_schema_for_client``: the richer kinds as
``{"type": "text", "format": "phone"}``, a key the old client ignores; the answers are validated
against the stored kind all the same. A form written that way (``type`` text with ``format``) is
stored with its kind.

Numbers (answers, limits, defaults) are bounded before any conversion: at most
``MAX_NUMBER_DIGITS`` digits, a three-digit exponent and a magnitude below ``MAX_NUMBER``; a
``1e1000000`` is refused at once instead of becoming a million-digit integer.

The answer messages keep the original's wording (§3.2) where it had one.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from wechathhu.core import jsonsafe

FIELD_TYPES = {
    "text": "单行文本",
    "textarea": "多行文本",
    "number": "数字",
    "radio": "单选",
    "checkbox": "多选",
    "date": "日期",
    "phone": "电话",
    "email": "电子邮箱",
}
ALLOWED_KEYS = {"type", "required", "default", "choices", "min", "max", "help", "format"}
# What the unchanged mini-program renders; the other kinds travel as text with a ``format``.
CLIENT_TYPES = frozenset({"text", "textarea", "number", "radio", "checkbox"})
FORMAT_KINDS = ("date", "phone", "email")
CHOICE_TYPES = {"radio", "checkbox"}
LIMIT_TYPES = {"text", "textarea", "number", "checkbox", "date"}
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 2000}
MAX_FIELDS = 50
MAX_LABEL_LENGTH = 50
MAX_CHOICES = 100
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{4,22}[0-9]$")
MAX_NUMBER_DIGITS = 30
MAX_NUMBER = Decimal(10) ** 15  # numbers answered or set are below this in magnitude
MAX_COUNT = 100_000  # a length or a number of ticks
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")

FORM_INVALID = "报名失败：报名表单不合法。"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- The schema ---------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def to_decimal(value: Any) -> Decimal | None:
    """``value`` (a JSON number, or a string holding one) as a ``Decimal``, or ``None`` when it is
    not a plain number within bounds. Every check comes before any conversion that could take
    long: at most ``MAX_NUMBER_DIGITS`` digits, an exponent of at most three digits, a magnitude
    below ``MAX_NUMBER``; no infinities, no NaN."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value.bit_length() > 100:
            return None
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if len(text) > MAX_NUMBER_DIGITS + 8 or not NUMBER_RE.fullmatch(text):
        return None
    mantissa = re.split("[eE]", text)[0]
    if sum(ch.isdigit() for ch in mantissa) > MAX_NUMBER_DIGITS:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        return None
    return number


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _check_limits(label: str, kind: str, rules: dict) -> None:
    lo, hi = rules.get("min"), rules.get("max")
    if lo is None and hi is None:
        return
    if kind not in LIMIT_TYPES:
        raise ValidationError(f"字段「{label}」：{FIELD_TYPES[kind]}类型不支持最小/最大值。")
    if kind == "date":
        parsed = [_parse_date(v) if v is not None else None for v in (lo, hi)]
        for raw, value in zip((lo, hi), parsed, strict=True):
            if raw is not None and value is None:
                raise ValidationError(f"字段「{label}」：日期范围须写成 YYYY-MM-DD。")
        lo, hi = parsed
    elif kind == "number":
        for value in (lo, hi):
            if value is not None and (not _is_number(value) or to_decimal(value) is None):
                raise ValidationError(
                    f"字段「{label}」：最小/最大值必须是数字，且绝对值小于 {MAX_NUMBER:.0e}。"
                )
    else:
        for value in (lo, hi):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT
            ):
                raise ValidationError(
                    f"字段「{label}」：最小/最大值必须是不小于 0 的整数（至多 {MAX_COUNT}）。"
                )
    if lo is not None and hi is not None and lo > hi:
        raise ValidationError(f"字段「{label}」：最小值不能大于最大值。")


def form_schema_validate(raw: str | dict) -> dict:
    """Parse and check a form schema; returns it as a dict (insertion order = field order).

    Raises ``ValidationError`` with a message naming the field at fault.
    """
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            schema = jsonsafe.loads(raw)
        except ValueError as exc:
            raise ValidationError(f"报名表单不是合法的 JSON：{exc}") from exc
    else:
        schema = dict(raw) if isinstance(raw, dict) else raw
    if not isinstance(schema, dict):
        raise ValidationError("报名表单必须是一个 JSON 对象（字段名 → 字段定义）。")
    if len(schema) > MAX_FIELDS:
        raise ValidationError(f"报名表单最多 {MAX_FIELDS} 个字段。")
    for label, rules in schema.items():
        if not label.strip() or len(label) > MAX_LABEL_LENGTH or label != label.strip():
            raise ValidationError(
                f"字段名「{label}」不合法：不能为空、首尾不能有空格，最多 {MAX_LABEL_LENGTH} 个字。"
            )
        if not isinstance(rules, dict):
            raise ValidationError(f"字段「{label}」的定义必须是一个对象。")
        if "format" in rules:  # as served to clients: {"type": "text", "format": "phone"}
            if rules.get("type") != "text" or rules["format"] not in FORMAT_KINDS:
                raise ValidationError(
                    f"字段「{label}」：format 只能与 text 类型一起使用，可选：{'、'.join(FORMAT_KINDS)}。"
                )
            rules = {
                "type": rules["format"],
                **{k: v for k, v in rules.items() if k not in ("type", "format")},
            }
            schema[label] = rules
        unknown = sorted(set(rules) - ALLOWED_KEYS)
        if unknown:
            raise ValidationError(f"字段「{label}」含有未知的属性：{'、'.join(unknown)}。")
        kind = rules.get("type")
        if kind not in FIELD_TYPES:
            raise ValidationError(f"字段「{label}」的类型不合法，可选：{'、'.join(FIELD_TYPES)}。")
        if "required" in rules and not isinstance(rules["required"], bool):
            raise ValidationError(f"字段「{label}」：required 必须是 true 或 false。")
        if "help" in rules and not isinstance(rules["help"], str):
            raise ValidationError(f"字段「{label}」：帮助文字必须是字符串。")
        if kind in CHOICE_TYPES:
            choices = rules.get("choices")
            if (
                not isinstance(choices, list)
                or not choices
                or len(choices) > MAX_CHOICES
                or not all(isinstance(c, str) and c.strip() for c in choices)
            ):
                raise ValidationError(f"字段「{label}」：选项必须是非空的文字列表。")
            if len(set(choices)) != len(choices):
                raise ValidationError(f"字段「{label}」：选项不能重复。")
        elif "choices" in rules:
            raise ValidationError(f"字段「{label}」：只有单选、多选字段可以设置选项。")
        _check_limits(label, kind, rules)
        if "default" in rules and rules["default"] not in ("", None, []):
            try:
                _clean_value(label, {**rules, "required": False}, rules["default"])
            except ValidationError as exc:
                raise ValidationError(f"字段「{label}」的默认值不合法：{exc.messages[0]}") from exc
    return schema


def form_schema_dumps(raw: str | dict) -> str:
    """The validated schema as the JSON text that is stored and served."""
    return dumps(form_schema_validate(raw))


# --- The answers --------------------------------------------------------------------------------


def _empty(kind: str, value: Any) -> bool:
    return value is None or value == "" or (kind == "checkbox" and value == [])


def _type_default(kind: str):
    if kind == "checkbox":
        return []
    if kind == "number":
        return None
    return ""


def _clean_number(label: str, rules: dict, value: Any):
    number = to_decimal(value)
    if number is None:
        raise ValidationError(f"数字不合法（字段：{label}）")
    lo, hi = rules.get("min"), rules.get("max")
    if lo is not None and number < Decimal(str(lo)):
        raise ValidationError(f"数字不得小于 {lo}（字段：{label}）")
    if hi is not None and number > Decimal(str(hi)):
        raise ValidationError(f"数字不得大于 {hi}（字段：{label}）")
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _clean_value(label: str, rules: dict, value: Any):
    kind = rules["type"]
    if kind in ("text", "textarea"):
        if not isinstance(value, str):
            raise ValidationError(f"文本不合法（字段：{label}）")
        value = value.strip() if kind == "text" else value
        lo, hi = rules.get("min"), rules.get("max", DEFAULT_MAX_LENGTH[kind])
        if lo is not None and len(value) < lo:
            raise ValidationError(f"至少填写 {lo} 个字（字段：{label}）")
        if len(value) > hi:
            raise ValidationError(f"最多填写 {hi} 个字（字段：{label}）")
        return value
    if kind == "number":
        return _clean_number(label, rules, value)
    if kind == "radio":
        if not isinstance(value, str) or value not in rules["choices"]:
            raise ValidationError(f"单选项不合法（字段：{label}）")
        return value
    if kind == "checkbox":
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v in rules["choices"] for v in value
        ):
            raise ValidationError(f"多选项不合法（字段：{label}）")
        if len(set(value)) != len(value):
            raise ValidationError(f"多选项不合法（字段：{label}）")
        lo, hi = rules.get("min"), rules.get("max")
        if lo is not None and len(value) < lo:
            raise ValidationError(f"至少选择 {lo} 项（字段：{label}）")
        if hi is not None and len(value) > hi:
            raise ValidationError(f"最多选择 {hi} 项（字段：{label}）")
        return [c for c in rules["choices"] if c in value]  # in the form's order
    if kind == "date":
        parsed = _parse_date(value.strip() if isinstance(value, str) else value)
        if parsed is None:
            raise ValidationError(f"日期不合法，应为 YYYY-MM-DD（字段：{label}）")
        lo, hi = rules.get("min"), rules.get("max")
        if lo is not None and parsed < date.fromisoformat(lo):
            raise ValidationError(f"日期不得早于 {lo}（字段：{label}）")
        if hi is not None and parsed > date.fromisoformat(hi):
            raise ValidationError(f"日期不得晚于 {hi}（字段：{label}）")
        return parsed.isoformat()
    if kind == "phone":
        if not isinstance(value, str) or not PHONE_RE.fullmatch(value.strip()):
            raise ValidationError(f"电话号码不合法（字段：{label}）")
        return value.strip()
    # email
    if not isinstance(value, str):
        raise ValidationError(f"电子邮箱不合法（字段：{label}）")
    try:
        validate_email(value.strip())
    except ValidationError:
        raise ValidationError(f"电子邮箱不合法（字段：{label}）")
    return value.strip()


def form_schema_for_client(text: str) -> str:
    """The stored form as served to clients (JSON text): only the five types the unchanged
    mini-program renders, the richer kind in ``format``; limits that are not finite numbers (a
    form stored before limits were bounded) are left out, so the answer is always valid JSON."""
    try:
        schema = jsonsafe.loads(text or "{}")
    except ValueError:
        return "{}"
    if not isinstance(schema, dict):
        return "{}"
    served = {}
    for label, rules in schema.items():
        if not isinstance(rules, dict):
            continue
        rules = {
            key: value
            for key, value in rules.items()
            if not (isinstance(value, float) and not math.isfinite(value))
        }
        kind = rules.get("type")
        if kind not in CLIENT_TYPES and kind in FORMAT_KINDS:
            rules = {"type": "text", "format": kind, **{k: v for k, v in rules.items() if k != "type"}}
        served[label] = rules
    return dumps(served)


def answers_parse(raw: Any) -> dict:
    """``participating_metas`` as sent: a JSON string (the mini-program) or an object."""
    if isinstance(raw, str):
        try:
            raw = jsonsafe.loads(raw) if raw.strip() else None
        except ValueError:
            raw = None
    if not isinstance(raw, dict):
        raise ValidationError(FORM_INVALID)
    return raw


def answers_validate(schema: dict, answers: dict) -> dict:
    """Check ``answers`` against ``schema``; returns the cleaned answers in the form's order.

    Missing optional fields get their default (or an empty value of their type); keys that are not
    in the form are refused.
    """
    unknown = [key for key in answers if key not in schema]
    if unknown:
        raise ValidationError(f"报名表单中没有该字段（字段：{unknown[0]}）")
    cleaned = {}
    for label, rules in schema.items():
        kind = rules["type"]
        value = answers.get(label)
        if _empty(kind, value):
            if rules.get("required"):
                raise ValidationError(f"必填项{label}不得为空。（字段：{label}）")
            default = rules.get("default")
            cleaned[label] = (
                _type_default(kind) if _empty(kind, default) else _clean_value(label, rules, default)
            )
            continue
        cleaned[label] = _clean_value(label, rules, value)
    return cleaned


def answers_load(text: str) -> dict:
    """Stored answers (JSON text) as a dict; anything unreadable reads as no answers."""
    try:
        value = jsonsafe.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def answer_display(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)
