"""Claiming an imported account (number + name + initial password or one-time code, binding
WeChat in the same step), and open registration with staff approval."""

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthToken, ClaimCode, User
from accounts.services.claims import claim_code_issue
from accounts.tests.factories import DepartmentFactory, SchoolClassFactory, StudentFactory, UserFactory
from conftest import PASSWORD, WECHAT_BASE
from wechathhu.core.errors import ApplicationError

pytestmark = pytest.mark.django_db

CLAIM_FAILED = "认领失败：信息不匹配，或该账号已被认领。请核对工号/学号、姓名和初始密码（或认领码）。"


def answer_code(mock, code, openid):
    mock.get(
        WECHAT_BASE + "sns/jscode2session",
        match=[responses.matchers.query_param_matcher({"js_code": code}, strict_match=False)],
        json={"openid": openid, "session_key": "k"},
    )


@pytest.fixture
def imported(password):
    return StudentFactory(username="S2024100", last_name="曾", first_name="小明")


def claim(client, **data):
    return client.post("/auth/claim/", {"username": "S2024100", "name": "曾小明", "code": "wx-1", **data})


def test_claim_with_the_initial_password_binds_wechat_and_logs_in(
    wechat_api, anon_client, imported, password
):
    answer_code(wechat_api, "wx-1", "openid-claim")
    response = claim(anon_client, password=password, new_password="a-brand-new-passphrase")
    assert response.status_code == 201
    token = AuthToken.objects.get(key=response.json()["token"])
    assert token.user == imported
    imported.refresh_from_db()
    assert imported.wechat_openid == "openid-claim"
    assert imported.claimed_at is not None
    assert imported.check_password("a-brand-new-passphrase")
    # from now on WeChat alone logs in (C1)
    answer_code(wechat_api, "wx-2", "openid-claim")
    assert anon_client.post("/auth/wechat-code2token/", {"code": "wx-2"}).status_code == 201


def test_claim_with_a_staff_issued_code_which_works_once(wechat_api, anon_client, imported, staff_user):
    code = claim_code_issue(user=imported, by=staff_user)
    answer_code(wechat_api, "wx-1", "openid-code")
    response = claim(anon_client, claim_code=code.lower().replace("-", " "))
    assert response.status_code == 201
    assert not ClaimCode.objects.exists()
    imported.refresh_from_db()
    assert imported.wechat_openid == "openid-code"
    answer_code(wechat_api, "wx-1", "openid-other")
    assert claim(anon_client, claim_code=code).json() == {
        "non_field_errors": [CLAIM_FAILED],
        "error_code": "claim_failed",
    }


@pytest.mark.parametrize(
    "data",
    [
        {"username": "S404", "password": "pass-word-123"},
        {"name": "曾大明", "password": "pass-word-123"},
        {"password": "wrong-password"},
        {"claim_code": "ABCD-EFGH"},
    ],
)
def test_any_mismatch_is_one_generic_error(wechat_api, anon_client, imported, data):
    answer_code(wechat_api, "wx-1", "openid-x")
    response = claim(anon_client, **data)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [CLAIM_FAILED], "error_code": "claim_failed"}
    imported.refresh_from_db()
    assert imported.wechat_openid is None and imported.claimed_at is None


def test_a_claimed_or_inactive_account_cannot_be_claimed_again(wechat_api, anon_client, imported, password):
    answer_code(wechat_api, "wx-1", "openid-a")
    assert claim(anon_client, password=password).status_code == 201
    answer_code(wechat_api, "wx-1", "openid-b")
    response = claim(anon_client, password=password)
    assert response.json() == {"non_field_errors": [CLAIM_FAILED], "error_code": "claim_failed"}
    imported.refresh_from_db()
    assert imported.wechat_openid == "openid-a"

    inactive = StudentFactory(username="S2024101", last_name="王", first_name="五", is_active=False)
    response = claim(anon_client, username=inactive.username, name="王五", password=password)
    assert response.json() == {"non_field_errors": [CLAIM_FAILED], "error_code": "claim_failed"}


def test_an_expired_code_is_refused(wechat_api, anon_client, imported, staff_user):
    code = claim_code_issue(user=imported, by=staff_user)
    ClaimCode.objects.update(expires_at=timezone.now())
    answer_code(wechat_api, "wx-1", "openid-x")
    assert claim(anon_client, claim_code=code).json() == {
        "non_field_errors": [CLAIM_FAILED],
        "error_code": "claim_failed",
    }


def test_a_new_code_replaces_the_old_one(wechat_api, anon_client, imported, staff_user):
    old = claim_code_issue(user=imported, by=staff_user)
    new = claim_code_issue(user=imported, by=staff_user)
    answer_code(wechat_api, "wx-1", "openid-x")
    assert claim(anon_client, claim_code=old).status_code == 400
    assert claim(anon_client, claim_code=new).status_code == 201


def test_claim_needs_a_password_or_code_and_a_wechat_code(anon_client):
    response = anon_client.post("/auth/claim/", {"username": "S1", "name": "张三"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == ["该字段是必填项。"]
    response = anon_client.post("/auth/claim/", {"username": "S1", "name": "张三", "code": "c"})
    assert response.json() == {
        "non_field_errors": ["请填写初始密码或认领码。"],
        "error_code": "proof_missing",
    }


def test_a_weak_new_password_is_refused_and_nothing_is_claimed(wechat_api, anon_client, imported, password):
    answer_code(wechat_api, "wx-1", "openid-x")
    response = claim(anon_client, password=password, new_password="123")
    assert response.status_code == 400
    assert "new_password" in response.json()
    imported.refresh_from_db()
    assert imported.claimed_at is None and imported.wechat_openid is None


def test_claiming_is_throttled(wechat_api, anon_client, imported, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/min"},
    }
    answer_code(wechat_api, "wx-1", "openid-x")
    statuses = [claim(anon_client, password="guess").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert claim(anon_client, password="guess").json()["detail"].startswith("登录尝试过于频繁，请稍后再试。")


def test_staff_issue_codes_from_the_admin_as_a_spreadsheet(client, superuser, imported):
    import io

    import openpyxl

    client.force_login(superuser)
    claimed = StudentFactory(claimed_at=timezone.now())
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "issue_claim_codes", "_selected_action": [imported.pk, claimed.pk]},
    )
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("工号/学号", "姓名", "认领码")
    assert [r[0] for r in rows[1:]] == ["S2024100"]  # the claimed account gets none
    assert ClaimCode.objects.filter(user=imported).exists()


# --- Open registration ----------------------------------------------------------------------------

REGISTRATION = {
    "username": "S2025001",
    "last_name": "单",
    "first_name": "田芳",
    "password": "a-long-enough-pass",
    "kind": "student",
}


def test_registration_is_off_by_default(anon_client):
    response = anon_client.post("/auth/register/", REGISTRATION)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "本系统未开放自助注册，请使用账号认领或联系管理员。",
        "error_code": "registration_closed",
    }
    assert not User.objects.filter(username="S2025001").exists()


@pytest.fixture
def open_registration(settings):
    settings.ACCOUNTS_OPEN_REGISTRATION = True


def test_a_new_account_waits_for_approval(open_registration, anon_client, client, superuser):
    school_class = SchoolClassFactory()
    response = anon_client.post("/auth/register/", {**REGISTRATION, "school_class": school_class.pk})
    assert response.status_code == 201
    assert response.json()["status"] == "awaiting_approval"
    user = User.objects.get(username="S2025001")
    assert (user.is_active, user.awaiting_approval, user.alpha) == (False, True, "S")

    login = {"username": "S2025001", "password": "a-long-enough-pass"}
    response = anon_client.post("/auth/get-token/", login)
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["您的注册申请正在等待管理员审核，审核通过后即可登录。"],
        "error_code": "awaiting_approval",
    }
    # a wrong password says nothing about the application
    response = anon_client.post("/auth/get-token/", {**login, "password": "nope"})
    assert response.json() == {
        "non_field_errors": ["无法使用提供的认证信息登录。"],
        "error_code": "login_failed",
    }

    client.force_login(superuser)
    page = client.get(reverse("admin:accounts_user_changelist"), {"awaiting_approval__exact": "1"})
    assert "S2025001" in page.content.decode()
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "approve_registrations", "_selected_action": [user.pk]},
    )
    user.refresh_from_db()
    assert (user.is_active, user.awaiting_approval) == (True, False)
    assert anon_client.post("/auth/get-token/", login).status_code == 201


def test_staff_may_refuse_an_application(open_registration, anon_client, client, superuser):
    anon_client.post("/auth/register/", REGISTRATION)
    other = UserFactory()
    client.force_login(superuser)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "reject_registrations",
            "_selected_action": [User.objects.get(username="S2025001").pk, other.pk],
        },
    )
    assert not User.objects.filter(username="S2025001").exists()
    assert User.objects.filter(pk=other.pk).exists()  # only applications are deleted


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"password": "short"}, "password", "密码长度太短。密码必须包含至少 8 个字符。"),
        ({"kind": "staff"}, "kind", "“staff” 不是合法选项。"),
        ({"username": "S 1"}, "username", "工号/学号只能包含字母、数字和 _ . @ + - 字符。"),
        ({"username": "T1001"}, "username", "该工号/学号已存在。如果这是您的账号，请使用账号认领。"),
        ({"kind": "teacher", "school_class": "CLASS"}, "school_class", "只有学生可以选择班级。"),
    ],
)
def test_registration_errors_are_clear(open_registration, anon_client, change, field, message):
    UserFactory(username="T1001")
    if change.get("school_class") == "CLASS":
        change = {**change, "school_class": SchoolClassFactory().pk}
    response = anon_client.post("/auth/register/", {**REGISTRATION, **change})
    assert response.status_code == 400
    assert message in response.json()[field]


def test_registration_is_throttled(open_registration, anon_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "register": "2/hour"},
    }
    DepartmentFactory()
    statuses = [
        anon_client.post("/auth/register/", {**REGISTRATION, "username": f"S9{i}"}).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_claiming_without_wechat_leaves_the_binding_alone_and_signs_in_elsewhere():
    """The H5 portal's claim: the same check, no WeChat code, no token."""
    from accounts.services.claims import user_claim_account
    from accounts.tests.factories import StudentFactory

    imported = StudentFactory(wechat_openid=None)
    user = user_claim_account(username=imported.username, name=imported.full_name, password=PASSWORD)
    assert user.pk == imported.pk and user.claimed_at is not None and user.wechat_openid is None
    assert not user.auth_tokens.exists()


def test_password_check_is_the_login_without_a_token(user):
    from accounts.models import AuthToken
    from accounts.services.login import user_check_password

    assert user_check_password(username=user.username, password=PASSWORD) == user
    assert not AuthToken.objects.filter(user=user).exists()
    with pytest.raises(ApplicationError, match="无法使用提供的认证信息登录"):
        user_check_password(username=user.username, password="wrong")


@pytest.mark.parametrize(
    "data",
    [
        {
            "username": "S2024100",
            "name": "曾小明",
            "password": "wrong-password",
        },  # right name, wrong password
        {"username": "S2024100", "name": "王五", "password": "wrong-password"},  # wrong name
        {"username": "S9999999", "name": "曾小明", "password": "wrong-password"},  # no such number
    ],
)
def test_every_failed_claim_does_the_same_work(wechat_api, anon_client, imported, data, monkeypatch):
    """Whatever was wrong, one password hash is computed: the answer's time tells nothing."""
    from django.contrib.auth import hashers

    hashes = []
    original = hashers.MD5PasswordHasher.encode
    monkeypatch.setattr(
        hashers.MD5PasswordHasher, "encode", lambda self, *a, **k: hashes.append(1) or original(self, *a, **k)
    )
    answer_code(wechat_api, "wx-1", "openid-claim")
    response = anon_client.post("/auth/claim/", {**data, "code": "wx-1"})
    assert response.status_code == 400 and response.json()["non_field_errors"] == [CLAIM_FAILED]
    assert len(hashes) == 1
