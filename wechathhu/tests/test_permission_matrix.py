"""The permission matrix: every API endpoint × every role × my object / someone else's, with the
exact status each must answer.

Roles: anonymous, student, teacher, sender (a teacher holding ``messaging.send``), clock-in
officer (officer of the clock-in item of their own activity), staff (``is_staff`` with the model
permissions in ``matrix_world.STAFF_PERMISSIONS``) and superuser. "Own" is the caller's object
(their booking, enrollment, repair, group, message, token …); "other" is a stranger's (each row's
``note`` says what it means where that is not obvious; on the public endpoints it is the wrong
credentials, an account already claimed, a forged link). For an anonymous caller both are the
stranger's. Someone else's object is a 404, never a 403 or a 200 (its existence is not revealed),
unless the role may see it (e.g. staff and anyone's repair photo).

Every (route name, method) the URL resolver serves must have a row: a new endpoint without one
fails ``test_every_endpoint_has_a_row``. Each request carries a minimal valid body, so the status
answers the permission question and not a validation one.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from activities import qr
from conftest import PASSWORD
from reservations.tests.factories import local

from .matrix_world import ROLES, STRANGER, World, build_world, png

pytestmark = pytest.mark.django_db

# Not part of the API: the admin, the schema and its viewers, DRF's browsable-API login, static files.
# (The H5 portal's pages under m/ are: their rows sign in with a browser session.)
# bench/: the benchmark's bare ceiling view, no API (404 unless BENCH_CEILING; test_middleware).
EXCLUDED_ROUTES = ("admin/", "api/schema/", "api/docs/", "api/redoc/", "api-auth/", "static/", "bench/")
SIGNED_IN = ROLES[1:]


# --- The rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """What one request of the matrix is about."""

    world: World
    role: str
    own: bool

    @property
    def me(self) -> dict:
        """The caller's objects (the stranger's for an anonymous caller)."""
        return self.world.objs[STRANGER if self.role == "anonymous" else self.role]

    @property
    def obj(self) -> dict:
        """The objects this case acts on: the caller's own, or the stranger's."""
        return self.me if self.own else self.world.objs[STRANGER]

    @property
    def shared(self) -> dict:
        return self.world.shared


def expect(ok: int, *, anon=401, other: int | None = None, **roles) -> dict[str, tuple[int, int]]:
    """``{role: (own, other)}``: ``ok`` for every signed-in role on its own object, ``other`` (default
    ``ok``) on someone else's, ``anon`` for the anonymous caller; a role's own entry (a status, or an
    ``(own, other)`` pair) overrides."""
    other = ok if other is None else other
    table = dict.fromkeys(SIGNED_IN, (ok, other))
    table["anonymous"] = anon if isinstance(anon, tuple) else (anon, anon)
    for role, value in roles.items():
        assert role in ROLES, role
        table[role] = value if isinstance(value, tuple) else (value, value)
    return table


# Every role of this world manages a group (see matrix_world), so every role may send, to its own
# group's members only (issue 20 item 7); someone outside it is a 403 for them. A user who may not
# send at all gets 403 everywhere here: messaging/tests/test_audiences.py.
OWN_GROUP_ONLY = {"student": (201, 403), "teacher": (201, 403), "officer": (201, 403)}


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    expected: dict[str, tuple[int, int]]
    kwargs: Callable[[Ctx], dict] = lambda c: {}
    query: Callable[[Ctx], dict] = lambda c: {}
    data: Callable[[Ctx], dict] | None = None
    multipart: bool = False
    wechat_openid: Callable[[Ctx], str] | None = None  # what WeChat's code2session answers
    # Not JSON: ``(body, content type)`` sent as is (the official account's XML webhook).
    raw_body: Callable[[Ctx], tuple[bytes, str]] | None = None
    # Run before the request with (pytest's request, the client, ctx): fixtures, session state.
    setup: Callable | None = None
    page: bool = False  # an H5 page: signed in by a browser session, anonymous sent to the login
    note: str = field(default="", compare=False)


def _tomorrow_at(hhmm: str) -> str:
    return local(timezone.localdate() + timedelta(days=1), hhmm).isoformat()


def _future_date(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _claim(c: Ctx) -> dict:
    if c.own:
        username = c.me["username"] if c.role != "anonymous" else c.shared["unclaimed_imported"]
        name = c.me["name"] if c.role != "anonymous" else c.shared["unclaimed_name"]
    else:  # the stranger's account, already claimed
        username, name = c.world.objs[STRANGER]["username"], c.world.objs[STRANGER]["name"]
    return {"username": username, "name": name, "password": PASSWORD, "code": "wx-code"}


MESSAGE = {"title": "矩阵测试", "content": "内容", "type": "notification", "priority": "normal"}
ENROLL_ANSWERS = {"姓名": "张三", "爱好": ["编程"]}

ROWS = [
    # --- Site --------------------------------------------------------------------------------
    Row("health", "GET", expect(200, anon=200)),
    Row("ping", "GET", expect(200)),
    Row("api-root", "GET", expect(200, anon=200)),
    # --- accounts: logging in (public) -------------------------------------------------------
    Row(
        "accounts:get-token",
        "POST",
        expect(201, other=400, anon=(201, 400)),
        data=lambda c: {
            "username": c.me["username"] if c.own else c.world.objs[STRANGER]["username"],
            "password": PASSWORD if c.own else "wrong-password",
            "device": "matrix-login",
        },
        note="own: my credentials; other: someone else's number with a wrong password",
    ),
    Row(
        "accounts:wechat-code2token",
        "POST",
        expect(201, other=400, anon=(201, 400)),
        data=lambda c: {"code": "wx-code", "device": "matrix-login"},
        wechat_openid=lambda c: f"openid-{c.me['username']}" if c.own else "openid-of-nobody",
        note="own: a WeChat bound to my account; other: a WeChat bound to nobody",
    ),
    Row(
        "accounts:claim",
        "POST",
        expect(201, other=400, anon=(201, 400)),
        data=_claim,
        wechat_openid=lambda c: "openid-claiming",
        note="own: an unclaimed account with its name and password; other: an account already claimed",
    ),
    Row(
        "accounts:register",
        "POST",
        expect(403, anon=403),
        data=lambda c: {
            "username": "R2026001",
            "last_name": "新",
            "first_name": "用户",
            "password": "a-long-pass-phrase-2026",
            "kind": "student",
        },
        note="closed unless ACCOUNTS_OPEN_REGISTRATION",
    ),
    # --- accounts: my session and devices ----------------------------------------------------
    Row(
        "accounts:wechat-auth",
        "PUT",
        expect(200),
        data=lambda c: {"code": "wx-code"},
        wechat_openid=lambda c: f"openid-{c.obj['username']}",
        note="other: the WeChat bound to someone else moves to me (WeChat is the proof)",
    ),
    Row("accounts:wechat-auth", "DELETE", expect(200)),
    Row("accounts:logout", "POST", expect(204)),
    Row("accounts:token-list", "GET", expect(200)),
    Row("accounts:token-detail", "DELETE", expect(204, other=404), kwargs=lambda c: {"pk": c.obj["token"]}),
    Row("accounts:current-user", "GET", expect(200)),
    Row(
        "accounts:current-user", "PUT", expect(200), data=lambda c: {"first_name": "新名", "last_name": "王"}
    ),
    Row("accounts:current-user-meta", "GET", expect(200)),
    Row("accounts:current-user-meta", "PUT", expect(200), data=lambda c: {"post": "教授"}),
    Row("accounts:current-user-avatar", "PUT", expect(200), data=lambda c: {"avatar": png()}, multipart=True),
    Row("accounts:current-user-avatar", "DELETE", expect(200)),
    Row(
        "accounts:avatar",
        "GET",
        expect(200, anon=200),
        kwargs=lambda c: {"user_id": c.obj["user"], "key": c.obj["avatar_key"]},
        note="public by design: the unguessable URL is the permission",
    ),
    # --- conversations (issue 14): someone else's conversation is a 404 ------------------------
    Row("conversations:conversation-list", "GET", expect(200)),
    Row(
        "conversations:conversation-direct",
        "POST",
        expect(200, other=400),
        data=lambda c: {"user_id": c.obj["friend"] if c.own else c.shared["inactive_user"]},
        note="own: my friend (our conversation exists); other: an account that has left",
    ),
    Row(
        "conversations:conversation-group-create",
        "POST",
        expect(201),
        data=lambda c: {"name": "矩阵新群", "member_ids": []},
    ),
    Row("conversations:conversation-unread", "GET", expect(200)),
    Row(
        "conversations:conversation-send-many",
        "POST",
        expect(200),
        data=lambda c: {"recipient_ids": [c.obj["friend"]], "message": "群发"},
        note="answers per recipient: other: someone else's friend (refused in the answer)",
    ),
    Row("conversations:conversation-events", "GET", expect(200), query=lambda c: {"wait": 0}),
    Row(
        "conversations:conversation-block",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"user_id": c.obj["friend"] if c.own else 2**31 - 1},
        note="other: nobody",
    ),
    Row(
        "conversations:conversation-block",
        "DELETE",
        expect(200),
        kwargs=lambda c: {"user_id": c.obj["friend"]},
    ),
    Row(
        "conversations:conversation-detail",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"]},
    ),
    Row(
        "conversations:conversation-detail",
        "PATCH",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conv_group"]},
        data=lambda c: {"name": "改名"},
        note="own: a group I own",
    ),
    Row(
        "conversations:message-list",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"]},
    ),
    Row(
        "conversations:message-list",
        "POST",
        expect(201, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"]},
        data=lambda c: {"message": "矩阵消息"},
    ),
    Row(
        "conversations:conversation-read",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"]},
        data=lambda c: {},
    ),
    Row(
        "conversations:member-list",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conv_group"]},
        data=lambda c: {"member_ids": [c.obj["group_member"]]},
        note="own: the member of the group I manage joins my chat group",
    ),
    Row(
        "conversations:member-detail",
        "DELETE",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conv_group"], "user_id": c.obj["conv_group_friend"]},
    ),
    Row(
        "conversations:member-detail",
        "PATCH",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conv_group"], "user_id": c.obj["conv_group_friend"]},
        data=lambda c: {"role": "admin"},
    ),
    Row(
        "conversations:message-recall",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"], "message_id": c.obj["conv_my_message"]},
        setup=lambda request, client, c: setattr(
            request.getfixturevalue("settings"), "CONVERSATIONS_RECALL_SECONDS", 10**6
        ),
    ),
    Row(
        "conversations:message-file",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"], "message_id": c.obj["conv_file_message"]},
    ),
    Row(
        "conversations:message-report",
        "POST",
        expect(201, other=404),
        kwargs=lambda c: {
            "conversation_id": c.obj["conversation"],
            "message_id": c.obj["conv_their_message"],
        },
        data=lambda c: {"reason": "骚扰"},
    ),
    Row("conversations:presence-ping", "POST", expect(200)),
    Row("conversations-root:friend-list", "GET", expect(200)),
    # --- accounts: directory, friends, groups --------------------------------------------------
    Row("accounts:user-search", "GET", expect(200), query=lambda c: {"q": c.obj["username"]}),
    Row("accounts:contact-list", "GET", expect(200)),
    Row("accounts:class-list", "GET", expect(200)),
    Row("accounts:department-list", "GET", expect(200)),
    Row(
        "accounts:friend",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"user_id": c.world.objs[STRANGER]["user"] if c.own else c.shared["inactive_user"]},
        note="own: someone not yet my friend; other: an account that has left",
    ),
    Row(
        "accounts:friend",
        "DELETE",
        expect(200, other=404),
        kwargs=lambda c: {"user_id": c.obj["friend"]},
        note="own: my friend; other: someone else's friend",
    ),
    Row("accounts:group-list", "GET", expect(200)),
    Row(
        "accounts:group-member-list",
        "GET",
        expect(200, other=404, staff=200, superuser=200),
        kwargs=lambda c: {"group_id": c.obj["group"]},
    ),
    Row(
        "accounts:group-member-list",
        "POST",
        expect(201, other=404, staff=201, superuser=201),
        kwargs=lambda c: {"group_id": c.obj["group"]},
        data=lambda c: {"user": c.shared["member_to_add"], "title": "成员"},
        note="own: a group I manage",
    ),
    Row(
        "accounts:group-member-detail",
        "PATCH",
        expect(200, other=404, staff=200, superuser=200),
        kwargs=lambda c: {"group_id": c.obj["group"], "user_id": c.obj["group_member"]},
        data=lambda c: {"title": "副组长"},
    ),
    Row(
        "accounts:group-member-detail",
        "DELETE",
        expect(204, other=404, staff=204, superuser=204),
        kwargs=lambda c: {"group_id": c.obj["group"], "user_id": c.obj["group_member"]},
    ),
    Row("accounts-v1:me", "GET", expect(200)),
    # --- messaging: my inbox -------------------------------------------------------------------
    Row("messaging:message-list", "GET", expect(200)),
    Row("messaging:message-unread-count", "GET", expect(200)),
    Row("messaging:message-stats", "GET", expect(200)),
    Row(
        "messaging:message-detail",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        note="own: addressed to me",
    ),
    Row(
        "messaging:message-read",
        "POST",
        expect(200),
        data=lambda c: {"message_ids": [c.obj["inbox_message"]]},
        note="ids I cannot see are ignored, not reported",
    ),
    Row(
        "messaging:message-archive",
        "POST",
        expect(200),
        data=lambda c: {"message_ids": [c.obj["inbox_message"]]},
        note="ids I cannot see are ignored, not reported",
    ),
    Row("messaging:category-list", "GET", expect(200)),
    Row("messaging:message-preferences", "GET", expect(200)),
    Row(
        "messaging:message-preferences",
        "PUT",
        expect(200),
        data=lambda c: {"quiet_hours_start": "22:00", "quiet_hours_end": "07:00"},
        note="always my own preferences",
    ),
    # --- messaging: comments, private questions and polls (issue 20 items 3, 5) ---------------
    Row(
        "messaging:message-comments",
        "GET",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        note="own: addressed to me; a message-center administrator sees every message's comments",
    ),
    Row(
        "messaging:message-comments",
        "POST",
        expect(201, other=404, superuser=201),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        data=lambda c: {"body": "矩阵评论"},
    ),
    Row(
        "messaging:message-comment-hide",
        "POST",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["sent_message"], "comment_id": c.obj["sent_comment"]},
        note="own: a comment on a message I sent (its sender moderates)",
    ),
    Row(
        "messaging:message-comment-unhide",
        "POST",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["sent_message"], "comment_id": c.obj["sent_comment"]},
    ),
    Row(
        "messaging:message-poll-vote",
        "POST",
        expect(200, other=404, superuser=(200, 403)),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        data=lambda c: {"option_ids": [c.obj["inbox_poll_option"]]},
        note="own: the poll of a message addressed to me; a message-center administrator sees "
        "someone else's message but only its recipients vote (403)",
    ),
    Row(
        "messaging:message-poll-votes",
        "GET",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
        note="own: the poll of a message I sent",
    ),
    # --- messaging: senders --------------------------------------------------------------------
    Row("messaging:admin-message-list", "GET", expect(200)),
    Row(
        "messaging:admin-message-list",
        "POST",
        expect(201, **OWN_GROUP_ONLY),
        data=lambda c: {**MESSAGE, "recipient_ids": [c.obj["user"]]},
    ),
    Row(
        "messaging:admin-message-global",
        "POST",
        expect(403, superuser=201),
        data=lambda c: MESSAGE,
        note="messaging.send_global only",
    ),
    Row(
        "messaging:admin-message-detail",
        "PUT",
        expect(200, other=404, superuser=(200, 403)),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
        data=lambda c: {"title": "改过的标题"},
        note="own: a message I sent",
    ),
    Row(
        "messaging:admin-message-detail",
        "DELETE",
        expect(200, other=404, superuser=(200, 403)),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
    ),
    Row(
        "messaging:admin-message-full-detail",
        "GET",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
    ),
    Row(
        "messaging:admin-message-delivery",
        "GET",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
    ),
    Row(
        "messaging:admin-message-recipients",
        "GET",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
    ),
    Row(
        "messaging:admin-message-recipients",
        "POST",
        expect(
            200,
            other=404,
            superuser=(200, 403),
            student=(403, 404),
            teacher=(403, 404),
            officer=(403, 404),
        ),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
        data=lambda c: {"recipient_ids": [c.shared["member_to_add"]]},
        note="a message-center administrator sees someone else's message but only its sender changes it "
        "(403); the member to add is outside the group a student, teacher or officer manages (403)",
    ),
    Row("messaging:admin-audience-list", "GET", expect(200)),
    # --- messaging: attachments, the hot list, templates (issue 20 items 4, 6, 8) ---------------
    Row("messaging:message-hot", "GET", expect(200)),
    Row(
        "messaging:message-attachment-download",
        "GET",
        expect(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["inbox_message"], "attachment_id": c.obj["inbox_attachment"]},
        note="own: a file of a message addressed to me; a message-center administrator sees every message",
    ),
    Row(
        "messaging:admin-message-attachments",
        "POST",
        expect(201, other=404, superuser=(201, 403)),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
        data=lambda c: {"files": [png()]},
        multipart=True,
        note="only the sender attaches: an administrator who sees someone else's message gets 403",
    ),
    Row(
        "messaging:admin-message-attachment-detail",
        "DELETE",
        expect(200, other=404, superuser=(200, 403)),
        kwargs=lambda c: {"pk": c.obj["sent_message"], "attachment_id": c.obj["sent_attachment"]},
    ),
    Row("messaging:admin-template-list", "GET", expect(200), note="every role manages a group: all may send"),
    Row(
        "messaging:admin-template-list",
        "POST",
        expect(201),
        data=lambda c: {"name": "模板", "title": "{姓名}你好", "content": "{班级}"},
    ),
    Row(
        "messaging:admin-template-from-message",
        "POST",
        expect(201, other=404, superuser=201),
        data=lambda c: {"message_id": c.obj["sent_message"]},
        note="a message I see as a sender",
    ),
    Row(
        "messaging:admin-template-detail",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["template"]},
        note="someone else's private template is not revealed, even to an administrator",
    ),
    Row(
        "messaging:admin-template-detail",
        "PUT",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["template"]},
        data=lambda c: {"name": "改过的模板"},
    ),
    Row(
        "messaging:admin-template-detail",
        "DELETE",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["template"]},
    ),
    Row(
        "messaging:admin-template-send",
        "POST",
        expect(201, other=404),
        kwargs=lambda c: {"pk": c.obj["template"]},
        data=lambda c: {"recipient_ids": [c.me["group_member"]]},
        note="to a member of the group I manage (issue 20 item 7's rule)",
    ),
    # --- reservations --------------------------------------------------------------------------
    Row(
        "reservations:meetingroom-available",
        "GET",
        expect(200),
        query=lambda c: {
            "query_from": _tomorrow_at("08:00"),
            "query_to": _tomorrow_at("12:00"),
        },
    ),
    Row("reservations:reservation-list", "GET", expect(200)),
    Row(
        "reservations:reservation-list",
        "POST",
        expect(201),
        data=lambda c: {
            "meetingroom_object": c.obj["room"],
            "reserve_from": _tomorrow_at("16:00"),
            "reserve_to": _tomorrow_at("17:00"),
            "description": "组会",
        },
        note="any room may be booked: own room or someone else's",
    ),
    Row(
        "reservations:reservation-detail",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["reservation"]},
    ),
    Row(
        "reservations:reservation-detail",
        "DELETE",
        expect(204, other=404),
        kwargs=lambda c: {"pk": c.obj["reservation"]},
    ),
    Row("reservations:series-list", "GET", expect(200)),
    Row(
        "reservations:series-list",
        "POST",
        expect(201),
        data=lambda c: {
            "meetingroom_object": c.obj["room"],
            "description": "周会",
            "frequency": "daily",
            "start_date": _future_date(10),
            "count": 2,
            "start_time": "09:00",
            "end_time": "10:00",
        },
    ),
    Row(
        "reservations:series-detail",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["series"]},
    ),
    Row(
        "reservations:series-detail",
        "DELETE",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["series"]},
    ),
    # --- activities ------------------------------------------------------------------------------
    Row("activities:activity-list", "GET", expect(200)),
    Row(
        "activities:activity-detail",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["activity"]},
        note="own: one I enrolled in; other: one for another department only",
    ),
    Row(
        "activities:enrollment-create",
        "POST",
        expect(201, other=400),
        data=lambda c: {
            "activity": c.shared["fresh_activity"] if c.own else c.obj["activity"],
            "participating_metas": ENROLL_ANSWERS,
        },
        note="own: an activity open to me; other: one not for me (400 under `activity`)",
    ),
    Row("activities:enrollment-create", "GET", expect(200)),
    Row(
        "activities:enrollment-detail",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["enrollment"]},
    ),
    Row(
        "activities:enrollment-detail",
        "DELETE",
        expect(204, other=404),
        kwargs=lambda c: {"pk": c.obj["enrollment"]},
    ),
    Row(
        "activities:clockin-list",
        "GET",
        expect(200, other=404),
        kwargs=lambda c: {"activity_id": c.obj["activity"]},
    ),
    Row(
        "activities:clockin-scan",
        "POST",
        expect(200, other=400),
        data=lambda c: {"key": qr.make_key(c.obj["clockin_item"])},
        note="other: the QR of an activity I am not enrolled in",
    ),
    Row(
        "activities:clockin-list",
        "POST",
        expect(200, other=400),
        kwargs=lambda c: {"activity_id": c.obj["activity"]},
        data=lambda c: {"key": qr.make_key(c.obj["clockin_item"])},
        note="seed 002's spelling of the scan; other: an activity I am not enrolled in",
    ),
    Row(
        "activities:clockin-code",
        "GET",
        expect(403, other=404, officer=(200, 404), staff=200, superuser=200),
        kwargs=lambda c: {"activity_id": c.obj["activity"]},
        query=lambda c: {"label": c.obj["clockin_label"]},
        note="own: the item of my activity (I am its officer only as the officer); "
        "other: an item of an activity I cannot see",
    ),
    # --- repairs ---------------------------------------------------------------------------------
    Row("repairs:category-list", "GET", expect(200)),
    Row("repairs:repair-list", "GET", expect(200)),
    Row(
        "repairs:repair-list",
        "POST",
        expect(201),
        data=lambda c: {"location": "勤学楼 202", "description": "空调漏水"},
    ),
    Row("repairs:repair-detail", "GET", expect(200, other=404), kwargs=lambda c: {"pk": c.obj["repair_new"]}),
    Row(
        "repairs:repair-confirm",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["repair_solved"]},
        data=lambda c: {},
    ),
    Row(
        "repairs:repair-reopen",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["repair_solved"]},
        data=lambda c: {"reason": "还是不亮"},
    ),
    Row(
        "repairs:repair-cancel",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["repair_new"]},
    ),
    Row(
        "repairs:repair-rate",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.obj["repair_solved"]},
        data=lambda c: {"rating": 5},
    ),
    Row(
        "repairs:repair-photo",
        "GET",
        expect(200, other=404, staff=200, superuser=200),
        kwargs=lambda c: {"pk": c.obj["repair_new"], "photo_pk": c.obj["repair_photo"]},
        note="staff with repairs.view_repairrequest see every photo",
    ),
    # --- guides ----------------------------------------------------------------------------------
    Row("guides:guide-list", "GET", expect(200)),
    Row(
        "guides:guide-detail",
        "GET",
        expect(200, other=404, staff=200, superuser=200),
        kwargs=lambda c: {"pk": c.shared["published_guide"] if c.own else c.shared["unpublished_guide"]},
        note="own: a published guide; other: an unpublished one (staff may fetch it)",
    ),
    Row(
        "guides:guide-email",
        "POST",
        expect(200, other=404),
        kwargs=lambda c: {"pk": c.shared["published_guide"] if c.own else c.shared["unpublished_guide"]},
    ),
    Row(
        "guides:guide-link",
        "GET",
        expect(200, other=404, anon=(200, 404)),
        kwargs=lambda c: {"token": c.shared["guide_link_token"] if c.own else "forged-link-token"},
        note="public by design: the signed, expiring link is the permission",
    ),
]

# --- The H5 portal's pages (/m/): a browser session; anonymous visitors are sent to the login (302),
# someone else's object is a 404, a successful form redirects (302), a refused one is a 400.


def page(status: int, *, anon=302, other: int | None = None, **roles) -> dict[str, tuple[int, int]]:
    return expect(status, anon=anon, other=other, **roles)


def _page_clockin_key(c: Ctx) -> str:
    return qr.make_key(c.obj["clockin_item"])


def _book(c: Ctx) -> dict:
    return {"room": c.obj["room"], "start": _tomorrow_at("16:00"), "end": _tomorrow_at("17:00")}


PAGE_ROWS = [
    Row("portal:home", "GET", page(200), page=True),
    Row("portal:services", "GET", page(200), page=True),
    Row("portal:login", "GET", page(302, anon=200), page=True, note="a signed-in browser goes home"),
    Row(
        "portal:login",
        "POST",
        page(302, other=400, anon=(302, 400)),
        data=lambda c: {
            "username": c.me["username"] if c.own else c.world.objs[STRANGER]["username"],
            "password": PASSWORD if c.own else "wrong-password",
        },
        page=True,
        note="own: my credentials; other: someone else's number with a wrong password",
    ),
    Row("portal:logout", "POST", page(302), page=True, note="signing out is harmless for anyone"),
    Row("portal:claim", "GET", page(200, anon=200), page=True),
    Row(
        "portal:claim",
        "POST",
        page(302, other=400, anon=(302, 400)),
        data=lambda c: {
            "username": c.shared["unclaimed_imported"] if c.own else c.world.objs[STRANGER]["username"],
            "name": c.shared["unclaimed_name"] if c.own else c.world.objs[STRANGER]["name"],
            "password": PASSWORD,
        },
        page=True,
        note="own: an unclaimed imported account; other: an account already claimed",
    ),
    Row("portal:me", "GET", page(200), page=True),
    Row("portal:profile", "GET", page(200), page=True),
    Row(
        "portal:profile",
        "POST",
        page(302),
        data=lambda c: {"last_name": "王", "first_name": "新名"},
        page=True,
    ),
    Row("portal:my-card", "GET", page(200), page=True),
    Row(
        "portal:my-card",
        "POST",
        page(302),
        data=lambda c: {
            f"{f}_visibility": "everyone" for f in ("post", "phone", "tel", "email", "qq", "wechat")
        },
        page=True,
    ),
    Row("portal:avatar", "GET", page(200), page=True),
    Row("portal:avatar", "POST", page(302), data=lambda c: {"avatar": png()}, page=True),
    Row("portal:devices", "GET", page(200), page=True),
    Row(
        "portal:devices",
        "POST",
        page(302),
        data=lambda c: {"kind": "token", "id": c.obj["token"]},
        page=True,
        note="other: someone else's token is left alone (the answer says it is gone)",
    ),
    Row("portal:inbox", "GET", page(200), page=True),
    Row("portal:hot", "GET", page(200), page=True),
    Row("portal:preferences", "GET", page(200), page=True),
    Row(
        "portal:preferences",
        "POST",
        page(302),
        data=lambda c: {"preferred_channel": "wechat", "digest_time": "07:30"},
        page=True,
    ),
    Row(
        "portal:message",
        "GET",
        page(200, other=404),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        page=True,
    ),
    Row(
        "portal:message-archive",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        page=True,
    ),
    Row(
        "portal:message-comment",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        data=lambda c: {"body": "矩阵评论"},
        page=True,
    ),
    Row(
        "portal:message-vote",
        "POST",
        page(302, other=404, superuser=(302, 403)),
        kwargs=lambda c: {"pk": c.obj["inbox_message"]},
        data=lambda c: {"option": [c.obj["inbox_poll_option"]]},
        page=True,
        note="a message-center administrator sees someone else's message but only its recipients vote",
    ),
    Row(
        "portal:sent-answer",
        "POST",
        page(302, other=404, superuser=302),
        kwargs=lambda c: {"pk": c.obj["sent_message"], "comment_id": c.obj["sent_comment"]},
        data=lambda c: {"body": "矩阵回答"},
        page=True,
        note="own: a comment on a message I sent",
    ),
    Row("portal:compose", "GET", page(200), page=True, note="every role manages a group: all may send"),
    Row(
        "portal:compose",
        "POST",
        page(302, student=400, teacher=400, officer=400),
        data=lambda c: {
            "title": "矩阵测试",
            "content": "内容",
            "type": "notification",
            "priority": "normal",
            "department_ids": [c.world.users.get(c.role, c.world.users[STRANGER]).department_id],
        },
        page=True,
        note="to my own department: senders may write to any department; a group manager is offered "
        "no department, so the form has no audience (400)",
    ),
    Row("portal:sent", "GET", page(200), page=True),
    Row(
        "portal:sent-message",
        "GET",
        page(200, other=404, superuser=200),
        kwargs=lambda c: {"pk": c.obj["sent_message"]},
        page=True,
        note="own: a message I sent",
    ),
    Row("portal:contacts", "GET", page(200), page=True),
    Row(
        "portal:person",
        "GET",
        page(200, other=404),
        kwargs=lambda c: {"user_id": c.obj["friend"] if c.own else c.shared["inactive_user"]},
        page=True,
        note="own: my friend's card; other: an account that has left",
    ),
    Row(
        "portal:friend",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"user_id": c.world.objs[STRANGER]["user"] if c.own else c.shared["inactive_user"]},
        page=True,
        note="own: someone not yet my friend; other: an account that has left",
    ),
    Row("portal:conversations", "GET", page(200), page=True),
    Row(
        "portal:conversation",
        "GET",
        page(200, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"]},
        page=True,
    ),
    Row(
        "portal:conversation",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"conversation_id": c.obj["conversation"]},
        data=lambda c: {"message": "网页消息"},
        page=True,
    ),
    Row(
        "portal:conversation-start",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"user_id": c.obj["friend"] if c.own else 2**31 - 1},
        page=True,
        note="own: my friend (our conversation); other: nobody",
    ),
    Row("portal:groups", "GET", page(200), page=True),
    Row(
        "portal:group",
        "GET",
        page(200, other=404, staff=200, superuser=200),
        kwargs=lambda c: {"group_id": c.obj["group"]},
        page=True,
        note="own: a group I manage; staff see every group",
    ),
    Row(
        "portal:group",
        "POST",
        page(302, other=404, staff=302, superuser=302),
        kwargs=lambda c: {"group_id": c.obj["group"]},
        data=lambda c: {"action": "title", "user_id": c.obj["group_member"], "title": "副组长"},
        page=True,
        note="own: a group I manage (a member's title changed)",
    ),
    Row("portal:rooms", "GET", page(200), page=True),
    Row("portal:rooms-search", "GET", page(200), page=True),
    Row("portal:room-book", "GET", page(200), query=_book, page=True),
    Row(
        "portal:room-book",
        "POST",
        page(302),
        data=lambda c: {**_book(c), "description": "组会"},
        page=True,
        note="any room may be booked: own room or someone else's",
    ),
    Row("portal:my-bookings", "GET", page(200), page=True),
    Row(
        "portal:booking-cancel",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.obj["reservation"]},
        page=True,
    ),
    Row("portal:series-list", "GET", page(200), page=True),
    Row("portal:series-new", "GET", page(200), query=lambda c: {"room": c.obj["room"]}, page=True),
    Row(
        "portal:series-new",
        "POST",
        page(302),
        data=lambda c: {
            "room": c.obj["room"],
            "description": "周会",
            "frequency": "daily",
            "start_date": _future_date(12),
            "count": 2,
            "start_time": "09:00",
            "end_time": "10:00",
            "on_conflict": "abort",
        },
        page=True,
        note="any room may be booked: own room or someone else's",
    ),
    Row(
        "portal:series",
        "GET",
        page(200, other=404),
        kwargs=lambda c: {"pk": c.obj["series"]},
        page=True,
    ),
    Row(
        "portal:series",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.obj["series"]},
        page=True,
        note="cancels the series' occurrences still to come",
    ),
    Row("portal:activities", "GET", page(200), page=True),
    Row(
        "portal:activity",
        "GET",
        page(200, other=404),
        kwargs=lambda c: {"pk": c.obj["activity"]},
        page=True,
        note="own: one I enrolled in; other: one for another department only",
    ),
    Row("portal:enroll", "GET", page(200, other=404), kwargs=lambda c: {"pk": c.obj["activity"]}, page=True),
    Row(
        "portal:enroll",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.shared["fresh_activity"] if c.own else c.obj["activity"]},
        data=lambda c: {"f0": "张三", "f3": ["编程"]},
        page=True,
        note="own: an activity open to me; other: one not for me",
    ),
    Row(
        "portal:activity-code",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.obj["activity"]},
        data=lambda c: {"code": qr.short_code(c.obj["clockin_item"])},
        page=True,
        note="the typed short code of my activity's item; other: an activity I cannot see",
    ),
    Row(
        "portal:enrollment-cancel",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.obj["enrollment"]},
        page=True,
    ),
    Row("portal:clockin-code", "GET", page(200), page=True),
    Row(
        "portal:scan",
        "GET",
        page(200),
        kwargs=lambda c: {"key": _page_clockin_key(c)},
        page=True,
        note="the landing page of a scanned code; another activity's code shows nothing about it",
    ),
    Row(
        "portal:scan",
        "POST",
        page(302, other=400),
        kwargs=lambda c: {"key": _page_clockin_key(c)},
        page=True,
        note="other: the QR of an activity I am not enrolled in",
    ),
    Row("portal:officer", "GET", page(200), page=True),
    Row(
        "portal:officer-code",
        "GET",
        page(404, officer=(200, 404), staff=200, superuser=200),
        kwargs=lambda c: {"item_id": c.obj["clockin_item"]},
        page=True,
        note="only the item's officers (and staff who manage clock-in items) see its code",
    ),
    Row("portal:repairs", "GET", page(200), page=True),
    Row("portal:repair-new", "GET", page(200), page=True),
    Row(
        "portal:repair-new",
        "POST",
        page(302),
        data=lambda c: {"location": "勤学楼 202", "description": "空调漏水"},
        page=True,
    ),
    Row(
        "portal:repair", "GET", page(200, other=404), kwargs=lambda c: {"pk": c.obj["repair_new"]}, page=True
    ),
    Row(
        "portal:repair",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.obj["repair_solved"]},
        data=lambda c: {"action": "confirm"},
        page=True,
    ),
    Row("portal:guides", "GET", page(200), page=True),
    Row(
        "portal:guide",
        "GET",
        page(200, other=404),
        kwargs=lambda c: {"pk": c.shared["published_guide"] if c.own else c.shared["unpublished_guide"]},
        page=True,
        note="own: a published guide; other: an unpublished one",
    ),
    Row(
        "portal:guide",
        "POST",
        page(302, other=404),
        kwargs=lambda c: {"pk": c.shared["published_guide"] if c.own else c.shared["unpublished_guide"]},
        page=True,
        note="e-mail the guide to me",
    ),
]
ROWS += PAGE_ROWS


# --- The official account: signed by WeChat (its own rows: the caller's token plays no part) ----------


def _official(request, client, ctx):
    request.getfixturevalue("official_account")


def _oauth_round_trip(request, client, ctx):
    """The callback as WeChat sends the browser back: this site started it (own) or not (other)."""
    fake = request.getfixturevalue("official_account")
    fake.oauth_codes["MATRIX-CODE"] = {"openid": "oMATRIX0000000000000000000001"}
    session = client.session
    session["official_oauth"] = {"state": "matrix-state", "next": "/m/"}
    session.save()


def _signed(ctx, *, body: str | None = None) -> dict:
    from official.tests.wechat_side import WeChatSide

    query, _ = WeChatSide(token="official-token" if ctx.own else "forged-token").query(body=body)
    return query


def _webhook_text(ctx) -> tuple[bytes, str]:
    from official.tests.wechat_side import text

    return text("oMATRIX0000000000000000000002", "帮助").encode(), "text/xml"


OFFICIAL_ROWS = [
    Row(
        "official:webhook",
        "GET",
        expect(200, other=403, anon=(200, 403)),
        query=lambda c: {**_signed(c), "echostr": "matrix"},
        setup=_official,
        note="public but signed: own = WeChat's signature, other = a forged one",
    ),
    Row(
        "official:webhook",
        "POST",
        expect(200, other=403, anon=(200, 403)),
        query=_signed,
        raw_body=_webhook_text,
        setup=_official,
        note="public but signed: own = WeChat's signature, other = a forged one",
    ),
    Row(
        "official:oauth-start",
        "GET",
        expect(302, anon=302),
        query=lambda c: {"next": "/m/"},
        setup=_official,
        note="public: sends the browser to WeChat",
    ),
    Row(
        "official:oauth-callback",
        "GET",
        expect(302, other=400, anon=(302, 400)),
        query=lambda c: {"code": "MATRIX-CODE", "state": "matrix-state" if c.own else "forged"},
        setup=_oauth_round_trip,
        note="public: own = a login this browser started, other = a forged state",
    ),
]
ROWS += OFFICIAL_ROWS


# --- Every endpoint has a row --------------------------------------------------------------------


def _view_methods(callback) -> set[str]:
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        raise AssertionError(
            f"{callback!r} is not a class-based view: give the matrix a way to see its methods"
        )
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in ("head", "options") and hasattr(view_class, method)
    }


def api_endpoints() -> set[tuple[str, str]]:
    """``(route name, method)`` of every API endpoint the URL resolver serves."""
    found = set()

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            route = prefix + str(pattern.pattern).removeprefix("^")  # re_path()s, e.g. static/ under DEBUG
            if route.startswith(EXCLUDED_ROUTES):
                continue
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"route {route!r} has no name"
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.update((name, method) for method in _view_methods(pattern.callback))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_endpoint_has_a_row():
    served = api_endpoints()
    rows = [(row.route, row.method) for row in ROWS]
    assert len(rows) == len(set(rows)), "a (route, method) has two rows"
    missing, stale = sorted(served - set(rows)), sorted(set(rows) - served)
    assert not missing, f"endpoints without a row in the permission matrix: {missing}"
    assert not stale, f"rows for endpoints that no longer exist: {stale}"
    for row in ROWS:
        assert set(row.expected) == set(ROLES), row


# --- The matrix ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module inside a transaction that is rolled back at the end;
    each test runs in its own savepoint within it."""
    media = tmp_path_factory.mktemp("matrix-media")
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=hashers),
        transaction.atomic(),
    ):
        built = build_world()
        built.media = media
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def world_settings(settings, world):
    settings.MEDIA_ROOT = world.media


def _client(world: World, role: str, *, page: bool = False):
    if page:  # a browser: signed in by its session
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        return client
    client = APIClient()
    if role != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")
    return client


def _case_id(case) -> str:
    row, role, own = case
    return f"{row.route}-{row.method}-{role}-{'own' if own else 'other'}"


CASES = [(row, role, own) for row in ROWS for role in ROLES for own in (True, False)]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
def test_status(case, world, world_settings, request):
    row, role, own = case
    response, url = _send(row, role, own, world, request)
    wanted = row.expected[role][0 if own else 1]
    body = getattr(response, "data", None)
    assert response.status_code == wanted, f"{row.method} {url} as {role}: {response.status_code} {body!r}"


# Every write, by the first role it succeeds for, on its own object (issue 16 item 21).
WRITE_CASES = [
    (row, next(role for role in ROLES if row.expected[role][0] < 400))
    for row in ROWS
    if row.method != "GET" and any(row.expected[role][0] < 400 for role in ROLES)
]


@pytest.mark.parametrize(
    "case", WRITE_CASES, ids=[f"{row.route}-{row.method}-{role}" for row, role in WRITE_CASES]
)
def test_every_write_answers_its_success_once_with_the_broker_down(
    case, world, world_settings, request, broker_down, django_capture_on_commit_callbacks
):
    """The broker unreachable (the real Celery client, nothing listening): every write endpoint
    answers what it answers with the broker up, and what it queues after the commit fails
    quietly (the outbox's periodic re-send picks it up) — never a 500 after the write is saved."""
    row, role = case
    with django_capture_on_commit_callbacks(execute=True):
        response, url = _send(row, role, True, world, request)
    wanted = row.expected[role][0]
    assert response.status_code == wanted, f"{row.method} {url} as {role}: {response.status_code}"


def _send(row, role, own, world, request):
    ctx = Ctx(world=world, role=role, own=own)
    if row.wechat_openid is not None:
        wechat = request.getfixturevalue("wechat_api")
        wechat.get(
            "http://wechat.test/sns/jscode2session",
            json={"openid": row.wechat_openid(ctx), "session_key": "k"},
        )
    url = reverse(row.route, kwargs=row.kwargs(ctx))
    data = row.data(ctx) if row.data else None
    client = _client(world, role, page=row.page)
    if row.setup is not None:
        row.setup(request, client, ctx)
    send = getattr(client, row.method.lower())
    query = row.query(ctx)
    if row.method == "GET":
        response = send(url, query)
    elif row.page:
        if query:
            url = f"{url}?{urlencode(query)}"
        response = send(url, data or {})
    else:
        if query:
            url = f"{url}?{urlencode(query)}"
        if row.raw_body is not None:
            content, content_type = row.raw_body(ctx)
            response = client.generic(row.method, url, content, content_type=content_type)
        else:
            response = send(url, data, format="multipart" if row.multipart else "json")
    return response, url


ROUTES = sorted({row.route for row in ROWS})


@pytest.mark.parametrize("route", ROUTES)
def test_methods_without_a_row_are_405(route, world, world_settings):
    """A method an endpoint does not serve is a 405, even for a superuser (nothing is reachable
    that the matrix does not list)."""
    rows = [row for row in ROWS if row.route == route]
    url = reverse(route, kwargs=rows[0].kwargs(Ctx(world=world, role="superuser", own=True)))
    client = _client(world, "superuser", page=rows[0].page)
    unserved = {"GET", "POST", "PUT", "PATCH", "DELETE"} - {row.method for row in rows}
    answers = {method: getattr(client, method.lower())(url).status_code for method in sorted(unserved)}
    assert answers == dict.fromkeys(unserved, 405)
