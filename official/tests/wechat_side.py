"""WeChat's side of the webhook, for tests and the benchmark: messages as WeChat writes them,
signed as WeChat signs them — ``sha1`` of the sorted token, timestamp and nonce (written out
here, independently of the server's wechatpy check) — and, in safe mode, encrypted with
wechatpy's ``WeChatCrypto`` (``msg_signature`` over the token, timestamp, nonce and ciphertext).
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from wechatpy.crypto import WeChatCrypto

OFFICIAL_TOKEN = "official-token"
OFFICIAL_APP_ID = "wxofficial0000001"
OFFICIAL_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat shows it
ACCOUNT = "gh_0123456789ab"
_ids = itertools.count(6_000_000_000_000_000_000)


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


def message_xml(fields: dict) -> str:
    """``<xml>`` as WeChat writes it: text in CDATA, numbers bare."""
    nodes = []
    for name, value in fields.items():
        if isinstance(value, int | float):
            nodes.append(f"<{name}>{value}</{name}>")
        else:
            nodes.append(f"<{name}><![CDATA[{value}]]></{name}>")
    return "<xml>" + "".join(nodes) + "</xml>"


def text(openid: str, content: str, *, msg_id: int | None = None, at: int | None = None) -> str:
    return message_xml(
        {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": at or int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id if msg_id is not None else next(_ids),
        }
    )


def event(openid: str, name: str, *, key: str | None = None, at: int | None = None, **extra) -> str:
    fields = {
        "ToUserName": ACCOUNT,
        "FromUserName": openid,
        "CreateTime": at or int(time.time()),
        "MsgType": "event",
        "Event": name,
    }
    if key is not None:
        fields["EventKey"] = key
    fields.update(extra)
    return message_xml(fields)


def media(openid: str, kind: str, *, msg_id: int | None = None, **extra) -> str:
    return message_xml(
        {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": kind,
            **extra,
            "MsgId": msg_id if msg_id is not None else next(_ids),
        }
    )


def mass_finish(
    msg_id: int, *, total: int, filtered: int, sent: int, error: int, status: str = "send success"
) -> str:
    return message_xml(
        {
            "ToUserName": ACCOUNT,
            "FromUserName": "mphelper",
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": "MASSSENDJOBFINISH",
            "MsgID": msg_id,
            "Status": status,
            "TotalCount": total,
            "FilterCount": filtered,
            "SentCount": sent,
            "ErrorCount": error,
        }
    )


class WeChatSide:
    """Sends signed requests to the webhook through a Django test client (or builds them for an
    HTTP client: ``signed_path``)."""

    path = "/wechat/official/"

    def __init__(self, client=None, *, safe: bool = False, token: str = OFFICIAL_TOKEN):
        self.client = client
        self.safe = safe
        self.token = token
        self.crypto = WeChatCrypto(token, OFFICIAL_AES_KEY, OFFICIAL_APP_ID)

    def query(
        self,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        openid: str | None = None,
        body: str | None = None,
    ) -> tuple[dict, str]:
        """``(query, body)`` of one delivery: signed, and in safe mode encrypted."""
        timestamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(5)
        query = {
            "signature": sha1_signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        if openid:
            query["openid"] = openid
        if self.safe and body is not None:
            envelope = self.crypto.encrypt_message(body, nonce, timestamp)
            encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sha1_signature(self.token, timestamp, nonce, encrypt)
            body = f"<xml><ToUserName><![CDATA[{escape(ACCOUNT)}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        return query, body

    def signed_path(self, body: str, **kwargs) -> tuple[str, str]:
        query, body = self.query(body=body, **kwargs)
        return f"{self.path}?{urlencode(query)}", body

    def post(self, body: str, **kwargs):
        path, body = self.signed_path(body, **kwargs)
        return self.client.generic("POST", path, body.encode("utf-8"), content_type="text/xml")

    def verify(self, echostr: str = "echo-123", **kwargs):
        query, _ = self.query(**kwargs)
        return self.client.get(self.path, {**query, "echostr": echostr})

    def reply(self, response) -> str:
        """The passive reply's XML (decrypted and its signature checked, in safe mode)."""
        content = response.content.decode("utf-8")
        if not self.safe or content == "success":
            return content
        import xmltodict

        envelope = xmltodict.parse(content)["xml"]
        expected = sha1_signature(self.token, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
        assert envelope["MsgSignature"] == expected, "the reply's signature is not WeChat's"
        return self.crypto.decrypt_message(
            content, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
        )
