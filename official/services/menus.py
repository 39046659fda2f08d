"""The custom menu: validated as WeChat validates it, published with one call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wechathhu.core.errors import ApplicationError
from wechathhu.integrations import official

from ..errors import OfficialErrorCode as E
from ..models import ButtonKind, Menu, MenuItem

# WeChat: at most 3 buttons of at most 16 bytes (4 Chinese characters); at most 5 sub-buttons of
# at most 60 bytes; click keys at most 128 bytes, URLs at most 1024.
TOP_BYTES, SUB_BYTES, KEY_BYTES, URL_BYTES = 16, 60, 128, 1024
NEEDS_KEY = {ButtonKind.CLICK, ButtonKind.SCANCODE_PUSH, ButtonKind.LOCATION_SELECT}


def _bytes(value: str) -> int:
    return len((value or "").encode("utf-8"))


def menu_errors(items: Iterable) -> list[str]:
    """Everything wrong with a menu's buttons (objects with the ``MenuItem`` fields), in Chinese;
    empty when WeChat will accept it."""
    errors: list[str] = []
    columns: dict[int, list] = defaultdict(list)
    for item in items:
        columns[item.column].append(item)
    if not columns:
        return ["菜单至少需要一个按钮。"]
    if len(columns) > 3 or any(c not in (1, 2, 3) for c in columns):
        errors.append("一级菜单最多 3 列（列号 1–3）。")
    for column, buttons in sorted(columns.items()):
        tops = [b for b in buttons if b.position == 0]
        subs = sorted((b for b in buttons if b.position != 0), key=lambda b: b.position)
        if len(tops) != 1:
            errors.append(f"第 {column} 列需要且只能有一个位置为 0 的一级菜单。")
            continue
        top = tops[0]
        if _bytes(top.name) > TOP_BYTES:
            errors.append(f"一级菜单“{top.name}”过长（最多 4 个汉字或 16 个字母）。")
        if len(subs) > 5:
            errors.append(f"“{top.name}”最多 5 个子菜单。")
        if subs and top.kind:
            errors.append(f"“{top.name}”有子菜单，本身不能再设置动作。")
        if not subs and not top.kind:
            errors.append(f"“{top.name}”没有子菜单，需要设置动作。")
        if top.kind:
            errors += _action_errors(top)
        for sub in subs:
            if _bytes(sub.name) > SUB_BYTES:
                errors.append(f"子菜单“{sub.name}”过长（最多 20 个汉字或 60 个字母）。")
            if not sub.kind:
                errors.append(f"子菜单“{sub.name}”需要设置动作。")
            else:
                errors += _action_errors(sub)
    return errors


def _action_errors(item) -> list[str]:
    errors = []
    if not (item.name or "").strip():
        errors.append("按钮名称不能为空。")
    if item.kind in NEEDS_KEY:
        if not (item.key or "").strip():
            errors.append(f"“{item.name}”需要填写点击键值。")
        elif _bytes(item.key) > KEY_BYTES:
            errors.append(f"“{item.name}”的键值过长（最多 128 字节）。")
    if item.kind in (ButtonKind.VIEW, ButtonKind.MINIPROGRAM):
        if not (item.url or "").startswith(("http://", "https://")):
            errors.append(f"“{item.name}”需要填写以 http(s):// 开头的网址。")
        elif _bytes(item.url) > URL_BYTES:
            errors.append(f"“{item.name}”的网址过长。")
    if item.kind == ButtonKind.MINIPROGRAM and not (item.appid and item.pagepath):
        errors.append(f"“{item.name}”需要填写小程序 appid 和页面。")
    return errors


def _button(item: MenuItem) -> dict:
    button = {"type": item.kind, "name": item.name}
    if item.kind in NEEDS_KEY:
        button["key"] = item.key
    if item.kind in (ButtonKind.VIEW, ButtonKind.MINIPROGRAM):
        button["url"] = item.url
    if item.kind == ButtonKind.MINIPROGRAM:
        button.update(appid=item.appid, pagepath=item.pagepath)
    return button


def menu_build(*, menu: Menu) -> dict:
    """The ``menu/create`` body of ``menu`` (validated)."""
    items = list(menu.items.order_by("column", "position"))
    errors = menu_errors(items)
    if errors:
        raise ApplicationError("；".join(errors), code=E.INVALID_MENU)
    buttons = []
    for column in sorted({i.column for i in items}):
        top, *subs = [i for i in items if i.column == column]
        if subs:
            buttons.append({"name": top.name, "sub_button": [_button(s) for s in subs]})
        else:
            buttons.append(_button(top))
    return {"button": buttons}


def menu_validate(*, items: Iterable) -> None:
    """For the admin's form: the same rules, as a ``ValidationError``."""
    errors = menu_errors(items)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def menu_publish(*, menu: Menu, by) -> Menu:
    """Send ``menu`` to WeChat; it replaces the account's menu (clients see it within minutes)."""
    body = menu_build(menu=menu)
    try:
        official.menu_create(menu=body)
    except official.OfficialDisabled as exc:
        raise ApplicationError(str(exc), code=E.DISABLED) from exc
    except official.WeChatUnavailable as exc:
        raise ApplicationError(str(exc), status=503, code=E.WECHAT_UNAVAILABLE) from exc
    except official.WeChatError as exc:
        raise ApplicationError(f"微信拒绝了该菜单：{exc}（{exc.errcode}）", code=E.WECHAT_ERROR) from exc
    menu.published_at = timezone.now()
    menu.published_by = by
    menu.save(update_fields=["published_at", "published_by", "updated_at"])
    return menu
