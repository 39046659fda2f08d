"""The custom menu (validated, published) and the QR codes printed for classes."""

import pytest
import xmltodict
from django.urls import reverse

from accounts.tests.factories import SchoolClassFactory, StudentFactory, UserFactory
from official import services
from official.models import Follower, Menu, QrScene
from official.services.menus import menu_errors
from official.tests import wechat_side as wx
from official.tests.factories import MenuFactory, MenuItemFactory, QrSceneFactory, openid
from wechathhu.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True, kind="staff")


def test_publishing_a_menu_sends_wechats_shape(official_account, staff):
    menu = MenuFactory(name="2026 春季")
    MenuItemFactory(menu=menu, column=1, position=0, name="今日", kind="click", key="今日")
    MenuItemFactory(menu=menu, column=2, position=0, name="服务", kind="")
    MenuItemFactory(menu=menu, column=2, position=1, name="我的未读", kind="click", key="未读")
    MenuItemFactory(
        menu=menu, column=2, position=2, name="门户", kind="view", key="", url="https://hhu.example/m/"
    )
    services.menu_publish(menu=menu, by=staff)
    assert official_account.menus == [
        {
            "button": [
                {"type": "click", "name": "今日", "key": "今日"},
                {
                    "name": "服务",
                    "sub_button": [
                        {"type": "click", "name": "我的未读", "key": "未读"},
                        {"type": "view", "name": "门户", "url": "https://hhu.example/m/"},
                    ],
                },
            ]
        }
    ]
    menu.refresh_from_db()
    assert menu.published_by == staff and menu.published_at is not None


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "至少需要一个按钮"),
        ([{"column": 1, "position": 0, "name": "太长的菜单名字", "kind": "click", "key": "k"}], "过长"),
        (
            [
                {"column": 1, "position": 0, "name": "服务", "kind": "click", "key": "k"},
                {"column": 1, "position": 1, "name": "子", "kind": "click", "key": "k"},
            ],
            "本身不能再设置动作",
        ),
        ([{"column": 1, "position": 0, "name": "服务", "kind": ""}], "需要设置动作"),
        ([{"column": 1, "position": 0, "name": "门户", "kind": "view", "url": "ftp://x"}], "http(s)://"),
        ([{"column": 1, "position": 0, "name": "点我", "kind": "click", "key": ""}], "点击键值"),
        (
            [{"column": 1, "position": 0, "name": "服务", "kind": ""}]
            + [
                {"column": 1, "position": p, "name": f"子{p}", "kind": "click", "key": "k"}
                for p in range(1, 7)
            ],
            "最多 5 个子菜单",
        ),
        ([{"column": 1, "position": 1, "name": "孤儿", "kind": "click", "key": "k"}], "位置为 0"),
    ],
    ids=[
        "empty",
        "long-name",
        "action-and-children",
        "no-action",
        "bad-url",
        "no-key",
        "six-children",
        "no-top",
    ],
)
def test_menu_validation(items, message):
    menu_items = [
        type("Item", (), {"name": "", "kind": "", "key": "", "url": "", "appid": "", "pagepath": "", **item})
        for item in items
    ]
    errors = menu_errors(menu_items)
    assert any(message in error for error in errors), errors


def test_an_invalid_menu_is_not_sent(official_account, staff):
    menu = MenuFactory()
    MenuItemFactory(menu=menu, column=1, position=0, name="服务", kind="")
    with pytest.raises(ApplicationError):
        services.menu_publish(menu=menu, by=staff)
    assert official_account.menus == []


def test_the_admin_refuses_an_invalid_menu_in_the_form(client, staff):
    client.force_login(staff)
    prefix = "items"
    data = {
        "name": "坏菜单",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-column": "1",
        f"{prefix}-0-position": "0",
        f"{prefix}-0-name": "服务",
        f"{prefix}-0-kind": "",
    }
    response = client.post(reverse("admin:official_menu_add"), data)
    assert response.status_code == 200
    assert "需要设置动作" in response.content.decode()
    assert not Menu.objects.exists()


def test_the_publish_action(client, staff, official_account):
    menu = MenuFactory()
    MenuItemFactory(menu=menu)
    client.force_login(staff)
    response = client.post(
        reverse("admin:official_menu_changelist"),
        {"action": "publish", "_selected_action": [menu.pk]},
        follow=True,
    )
    assert "已发布" in response.content.decode()
    assert len(official_account.menus) == 1


# --- QR codes ------------------------------------------------------------------------------------------


def test_staff_make_a_class_qr_code_and_print_it(client, staff, official_account):
    klass = SchoolClassFactory(name="计科2201")
    client.force_login(staff)
    response = client.post(reverse("admin:official_qrscene_add"), {"school_class": klass.pk})
    assert response.status_code == 302
    scene = QrScene.objects.get(school_class=klass)
    assert scene.scene == f"class:{klass.pk}" and scene.url.startswith("http://weixin.qq.com/q/")
    assert official_account.qrcodes == [
        {"action_info": {"scene": {"scene_str": f"class:{klass.pk}"}}, "action_name": "QR_LIMIT_STR_SCENE"}
    ]
    page = client.get(reverse("admin:official_qrscene_print", args=[scene.pk])).content.decode()
    assert "计科2201" in page and "<svg" in page
    # Asking again reuses the code (permanent codes are limited).
    client.post(reverse("admin:official_qrscene_add"), {"school_class": klass.pk})
    assert len(official_account.qrcodes) == 1


def test_wechat_refusing_a_qr_code_shows_on_the_form(client, staff, official_account):
    official_account.refuse["qrcode/create"] = (45009, "api freq out of limit")
    client.force_login(staff)
    response = client.post(reverse("admin:official_qrscene_add"), {"scene": "poster-2026"})
    assert response.status_code == 200
    assert "45009" in response.content.decode()
    assert not QrScene.objects.exists()


def test_scanning_a_class_code_to_follow_leads_to_binding_that_class(client, official_account):
    scene = QrSceneFactory(school_class=SchoolClassFactory(name="软工2302"))
    side = wx.WeChatSide(client)
    response = side.post(wx.event(openid(1), "subscribe", key=f"qrscene_{scene.scene}", Ticket=scene.ticket))
    reply = xmltodict.parse(side.reply(response))["xml"]["Content"]
    assert "软工2302" in reply and "/wechat/oauth/start/" in reply
    follower = Follower.objects.get(openid=openid(1))
    assert follower.scene_class == scene.school_class and follower.scene == scene.scene
    scene.refresh_from_db()
    assert scene.scans == 1
    student = StudentFactory(school_class=scene.school_class)
    assert services.follower_bind_user(openid=openid(1), user=student).user == student


def test_a_follower_scanning_a_class_code_again(client, official_account):
    scene = QrSceneFactory()
    side = wx.WeChatSide(client)
    side.post(wx.event(openid(2), "subscribe"))
    response = side.post(wx.event(openid(2), "SCAN", key=scene.scene, Ticket=scene.ticket))
    assert str(scene.school_class) in side.reply(response)
    assert Follower.objects.get(openid=openid(2)).scene_class_id == scene.school_class_id
