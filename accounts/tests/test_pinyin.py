"""Pinyin keys: surname readings, initials, the directory letter."""

import pytest

from accounts.pinyin import name_keys


@pytest.mark.parametrize(
    ("last", "first", "pinyin", "initials", "alpha"),
    [
        ("张", "三", "zhangsan", "zs", "Z"),
        ("单", "雄信", "shanxiongxin", "sxx", "S"),  # not dan
        ("曾", "国藩", "zengguofan", "zgf", "Z"),  # not ceng
        ("解", "缙", "xiejin", "xj", "X"),  # not jie
        ("区", "志强", "ouzhiqiang", "ozq", "O"),
        ("单于", "平", "chanyuping", "cyp", "C"),  # the compound surname wins over 单
        ("尉迟", "恭", "yuchigong", "ycg", "Y"),
        ("欧阳", "修", "ouyangxiu", "oyx", "O"),
        ("", "曾小明", "zengxiaoming", "zxm", "Z"),  # whole name in one box: still a surname first
        ("", "Alice", "alice", "a", "A"),
        ("Smith", "John", "smithjohn", "sj", "S"),
        ("", "", "", "", "?"),
        ("", "3号", "3hao", "3h", "?"),
    ],
)
def test_name_keys(last, first, pinyin, initials, alpha):
    keys = name_keys(last, first)
    assert (keys.pinyin, keys.initials, keys.alpha) == (pinyin, initials, alpha)


def test_surname_reading_applies_to_the_surname_only():
    # 曾 in a given name keeps its ordinary reading
    assert name_keys("王", "曾").pinyin == "wangceng"


@pytest.mark.django_db
def test_refresh_name_keys_fixes_stale_rows():
    import io

    from django.core.management import call_command

    from accounts.models import User
    from accounts.tests.factories import UserFactory

    stale = UserFactory(
        last_name="单", first_name="雄信", name_pinyin="danxiongxin", name_initials="dxx", alpha="D"
    )
    fresh = UserFactory(last_name="张", first_name="三")
    out = io.StringIO()
    call_command("refresh_name_keys", stdout=out)
    assert "已更新 1 位用户" in out.getvalue()
    stale.refresh_from_db()
    assert (stale.name_pinyin, stale.name_initials, stale.alpha) == ("shanxiongxin", "sxx", "S")
    assert User.objects.get(pk=fresh.pk).name_pinyin == "zhangsan"
