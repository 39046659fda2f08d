"""seed 001's own Python client (``MessageManager``), run against a live server.

The class below is the contract's example client, copied from seed 001 as test data: only the
indentation (lost in the seed's text) is restored and ``Optional[List[int]]`` is spelled
``list[int] | None`` for the linter; its requests are unchanged. If it works against this server,
the contract holds.
"""

# ruff: noqa: S113 - the seed's client passes no timeout; it is kept as the contract wrote it

import gc
import threading
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from accounts.services.tokens import token_issue
from accounts.tests.factories import UserFactory


# ---- seed 001: "Python 消息管理脚本" -------------------------------------------------------------
class MessageManager:
    def __init__(self, base_url: str, admin_token: str, user_token: str):
        self.base_url = base_url
        self.admin_token = admin_token
        self.user_token = user_token
        self.admin_headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
        self.user_headers = {"Authorization": f"Bearer {user_token}", "Content-Type": "application/json"}

    def create_message(
        self,
        title: str,
        content: str,
        message_type: str,
        priority: str,
        recipient_ids: list[int] | None = None,
        is_global: bool = False,
        expires_at: str | None = None,
        published_at: str | None = None,
    ) -> dict[str, Any]:
        """创建消息"""
        data = {
            "title": title,
            "content": content,
            "type": message_type,
            "priority": priority,
            "is_global": is_global,
        }
        if recipient_ids:
            data["recipient_ids"] = recipient_ids
        if expires_at:
            data["expires_at"] = expires_at
        if published_at:
            data["published_at"] = published_at
        response = requests.post(
            f"{self.base_url}/api/v1/admin/messages", json=data, headers=self.admin_headers
        )
        response.raise_for_status()
        return response.json()

    def send_global_message(
        self,
        title: str,
        content: str,
        message_type: str,
        priority: str,
        expires_at: str | None = None,
        published_at: str | None = None,
    ) -> dict[str, Any]:
        """发送全局消息"""
        data = {"title": title, "content": content, "type": message_type, "priority": priority}
        if expires_at:
            data["expires_at"] = expires_at
        if published_at:
            data["published_at"] = published_at
        response = requests.post(
            f"{self.base_url}/api/v1/admin/messages/global", json=data, headers=self.admin_headers
        )
        response.raise_for_status()
        return response.json()

    def get_user_messages(
        self,
        message_type: str | None = None,
        priority: str | None = None,
        is_read: bool | None = None,
        search: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> dict[str, Any]:
        """获取用户消息列表"""
        params = {"page": page, "page_size": page_size}
        if message_type:
            params["type"] = message_type
        if priority:
            params["priority"] = priority
        if is_read is not None:
            params["is_read"] = is_read
        if search:
            params["search"] = search
        response = requests.get(f"{self.base_url}/api/v1/messages", params=params, headers=self.user_headers)
        response.raise_for_status()
        return response.json()

    def get_admin_messages(
        self,
        message_type: str | None = None,
        priority: str | None = None,
        sender_id: int | None = None,
        is_active: bool | None = None,
        is_global: bool | None = None,
        search: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> dict[str, Any]:
        """获取管理员消息列表"""
        params = {"page": page, "page_size": page_size}
        if message_type:
            params["type"] = message_type
        if priority:
            params["priority"] = priority
        if sender_id:
            params["sender_id"] = sender_id
        if is_active is not None:
            params["is_active"] = is_active
        if is_global is not None:
            params["is_global"] = is_global
        if search:
            params["search"] = search
        if date_from:
            params["date_from"] = date_from
        if date_to:
            params["date_to"] = date_to
        response = requests.get(
            f"{self.base_url}/api/v1/admin/messages", params=params, headers=self.admin_headers
        )
        response.raise_for_status()
        return response.json()

    def mark_as_read(self, message_ids: list[int]) -> dict[str, Any]:
        """标记消息为已读"""
        response = requests.post(
            f"{self.base_url}/api/v1/messages/read",
            json={"message_ids": message_ids},
            headers=self.user_headers,
        )
        response.raise_for_status()
        return response.json()

    def archive_messages(self, message_ids: list[int]) -> dict[str, Any]:
        """归档消息"""
        response = requests.post(
            f"{self.base_url}/api/v1/messages/archive",
            json={"message_ids": message_ids},
            headers=self.user_headers,
        )
        response.raise_for_status()
        return response.json()

    def get_unread_count(self) -> dict[str, Any]:
        """获取未读消息数量"""
        response = requests.get(f"{self.base_url}/api/v1/messages/unread-count", headers=self.user_headers)
        response.raise_for_status()
        return response.json()

    def get_user_stats(self) -> dict[str, Any]:
        """获取用户消息统计"""
        response = requests.get(f"{self.base_url}/api/v1/messages/stats", headers=self.user_headers)
        response.raise_for_status()
        return response.json()

    def add_recipients(self, message_id: int, recipient_ids: list[int]) -> dict[str, Any]:
        """添加消息接收者"""
        response = requests.post(
            f"{self.base_url}/api/v1/admin/messages/{message_id}/recipients",
            json={"recipient_ids": recipient_ids},
            headers=self.admin_headers,
        )
        response.raise_for_status()
        return response.json()

    def update_message(self, message_id: int, **kwargs) -> dict[str, Any]:
        """更新消息"""
        response = requests.put(
            f"{self.base_url}/api/v1/admin/messages/{message_id}", json=kwargs, headers=self.admin_headers
        )
        response.raise_for_status()
        return response.json()

    def delete_message(self, message_id: int) -> dict[str, Any]:
        """删除消息"""
        response = requests.delete(
            f"{self.base_url}/api/v1/admin/messages/{message_id}", headers=self.admin_headers
        )
        response.raise_for_status()
        return response.json()

    def generate_message_report(self, date_from: str | None = None, date_to: str | None = None) -> str:
        """生成消息报告"""
        messages_data = self.get_admin_messages(date_from=date_from, date_to=date_to, page_size=1000)
        stats_data = self.get_admin_messages(page_size=1)  # noqa: F841 - unused in the seed too
        total_messages = len(messages_data["data"]["messages"])
        # 统计各类消息数量
        type_counts = {}
        priority_counts = {}
        for message in messages_data["data"]["messages"]:
            msg_type = message["type"]
            priority = message["priority"]
            type_counts[msg_type] = type_counts.get(msg_type, 0) + 1
            priority_counts[priority] = priority_counts.get(priority, 0) + 1
        report = f"""
# 消息系统统计报告
## 基本统计
- 总消息数: {total_messages}
- 统计时间范围: {date_from or "开始"} 至 {date_to or "现在"}
## 消息类型分布
"""
        for msg_type, count in type_counts.items():
            report += f"- {msg_type}: {count} 条 ({count / total_messages * 100:.1f}%)\n"
        report += "\n## 优先级分布\n"
        for priority, count in priority_counts.items():
            report += f"- {priority}: {count} 条 ({count / total_messages * 100:.1f}%)\n"
        return report


# ---- end of seed 001 -----------------------------------------------------------------------------


@pytest.fixture
def manager(live_server, transactional_db):
    admin = UserFactory(username="admin", last_name="管", first_name="理员", is_staff=True, is_superuser=True)
    reader = UserFactory(username="user1", last_name="张", first_name="三")
    admin_token, _ = token_issue(user=admin, device="seed-client-admin")
    user_token, _ = token_issue(user=reader, device="seed-client-user")
    client = MessageManager(base_url=live_server.url, admin_token=admin_token.key, user_token=user_token.key)
    client.admin, client.reader = admin, reader
    yield client
    # On SQLite the live server shares the test's in-memory connection: let its request threads
    # finish before the (session-wide) server stops sharing it. A response kept alive by a caught
    # HTTPError's traceback holds its socket open until collected.
    gc.collect()
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=10)


def test_seed_client_runs_its_whole_scenario_against_the_server(manager):
    reader, admin = manager.reader, manager.admin
    other = UserFactory(username="user2")

    created = manager.create_message(
        title="部门会议提醒",
        content="明天上午10点部门会议,请准时参加。会议地点:3楼会议室。",
        message_type="reminder",
        priority="normal",
        recipient_ids=[reader.pk],
        expires_at="2099-12-31",
        published_at="2024-01-01T09:00:00Z",
    )
    assert created["code"] == 200 and created["message"] == "创建成功"
    message_id = created["data"]["id"]
    assert created["data"]["sender"] == {"id": admin.pk, "username": "admin", "real_name": "管理员"}

    announced = manager.create_message(
        title="系统维护通知",
        content="系统将于今晚22:00进行维护,预计2小时。",
        message_type="announcement",
        priority="high",
        is_global=True,
        expires_at="2099-12-31",
    )
    assert announced["data"]["is_global"] is True
    festival = manager.send_global_message(
        title="春节放假通知",
        content="根据国家规定,春节放假时间为2月10日至2月17日。",
        message_type="announcement",
        priority="high",
    )
    assert festival["message"] == "发送全局消息成功"

    high = manager.get_admin_messages(message_type="announcement", priority="high")
    assert len(high["data"]["messages"]) == 2
    assert (
        manager.get_admin_messages(is_global=False, is_active=True)["data"]["pagination"]["total_items"] == 1
    )
    assert (
        manager.get_admin_messages(sender_id=admin.pk, search="会议")["data"]["messages"][0]["id"]
        == message_id
    )

    unread = manager.get_user_messages(is_read=False)
    assert len(unread["data"]["messages"]) == 3
    assert (
        manager.get_user_messages(message_type="reminder", priority="normal", search="会议")["data"][
            "messages"
        ][0]["id"]
        == message_id
    )
    assert manager.get_unread_count()["data"]["unread_count"] == 3

    stats = manager.get_user_stats()["data"]
    assert (stats["total_count"], stats["read_count"], stats["unread_count"], stats["archived_count"]) == (
        3,
        0,
        3,
        0,
    )
    assert stats["announcement_count"] == 2 and stats["reminder_count"] == 1

    assert manager.mark_as_read([message_id])["message"] == "标记消息已读成功"
    assert manager.get_unread_count()["data"]["unread_count"] == 2
    assert manager.archive_messages([festival["data"]["id"]])["message"] == "归档消息成功"
    assert len(manager.get_user_messages()["data"]["messages"]) == 2
    assert manager.get_user_stats()["data"]["archived_count"] == 1

    assert manager.add_recipients(message_id, [other.pk])["message"] == "添加接收者成功"
    updated = manager.update_message(message_id, title="更新后的会议提醒", priority="high", is_active=True)
    assert updated["message"] == "更新消息成功" and updated["data"]["title"] == "更新后的会议提醒"

    report = manager.generate_message_report(date_from="2024-01-01", date_to="2099-12-31")
    assert "- 总消息数: 3" in report
    assert "- announcement: 2 条 (66.7%)" in report

    assert manager.delete_message(message_id)["message"] == "删除消息成功"
    assert manager.get_unread_count()["data"]["unread_count"] == 1


def test_seed_client_sees_http_errors_as_exceptions(manager):
    with pytest.raises(requests.HTTPError) as excinfo:
        manager.create_message(
            title="x", content="", message_type="memo", priority="normal", recipient_ids=[1]
        )
    assert excinfo.value.response.status_code == 400
    assert excinfo.value.response.json()["code"] == 400
    with pytest.raises(requests.HTTPError) as excinfo:
        manager.delete_message(999999)
    assert excinfo.value.response.json() | {"timestamp": None} == {
        "code": 404,
        "error_code": "not_found",
        "message": "消息不存在。",
        "data": None,
        "timestamp": None,
    }


def test_seed_client_report_counts_every_message(manager):
    """The report reads one page of ``page_size=1000``: the list serves that many, so it counts all
    150 messages (it counted 100 when pages were capped there)."""
    from messaging.tests.factories import MessageFactory

    MessageFactory.create_batch(150, sender=manager.admin, published_at=timezone.now() - timedelta(hours=1))
    MessageFactory.create_batch(5)  # other senders': the administrator sees them too

    report = manager.generate_message_report()

    assert "- 总消息数: 155" in report
    assert "- notification: 155 条 (100.0%)" in report
