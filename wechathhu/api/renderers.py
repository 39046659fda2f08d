"""Renderers: plain JSON (the mini-program contract) and the message-center envelope.

The envelope is ``{"code", "message", "data", "timestamp"}`` (seed 001). Views under ``/api/v1/``
return plain data (optionally with a message, see ``EnvelopeResponse``); ``EnvelopeJSONRenderer``
is the one place that wraps it. ``code`` is 200 on success (also for a 201 create) and the HTTP
status on errors; an error also carries ``error_code``, the machine code clients branch on
(``{"code": 400, "error_code": "no_recipients", "message": …, "data": …, "timestamp": …}``).

JSON is written by orjson (through drf-orjson-renderer), byte for byte what DRF's own renderer
writes for the answers we send: compact, UTF-8, U+2028/U+2029 escaped, dates and times, decimals
and lazy translations in DRF's formats. Whatever orjson will not write as DRF would (integers
beyond 64 bits, unknown types) goes through DRF's renderer, as does indented output (the
browsable API, ``Accept: application/json; indent=4``).
"""

import json

import orjson
from django.utils import timezone
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework import renderers
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder


class EncodedJSON:
    """JSON text a view built itself, for a large answer assembled from shared fragments.

    ``JSONRenderer`` sends it as it is; the browsable API shows it indented like any answer.
    """

    __slots__ = ("content",)

    def __init__(self, content: bytes):
        self.content = content


_drf_encoder = DRFJSONEncoder()


class JSONRenderer(ORJSONRenderer):
    """The project's JSON renderer: orjson for compact output, DRF's renderer for the rest."""

    format = "json"
    media_type = "application/json"
    charset = None
    # Dates and times go to ``default`` too, to be written in DRF's formats ("Z" for UTC, ms).
    options = orjson.OPT_PASSTHROUGH_DATETIME
    _drf = renderers.JSONRenderer()

    @staticmethod
    def default(obj):
        """What orjson does not write itself, written as DRF's encoder writes it (a TypeError
        for an unknown type, which sends the whole answer through DRF's renderer)."""
        return _drf_encoder.default(obj)

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        indent = self._drf.get_indent(accepted_media_type, renderer_context)
        if isinstance(data, EncodedJSON):
            if indent is None:
                return data.content
            data = json.loads(data.content)
        if indent is not None:
            return self._drf.render(data, accepted_media_type, renderer_context)
        try:
            content = super().render(data, accepted_media_type, renderer_context)
        except (orjson.JSONEncodeError, TypeError):
            return self._drf.render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in content or b"\xe2\x80\xa9" in content:
            # As DRF does: JSON that is also valid JavaScript.
            content = content.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return content


DEFAULT_MESSAGES = {
    400: "请求参数错误",
    401: "未认证",
    403: "无权限",
    404: "资源不存在",
    405: "请求方法不被允许",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


DEFAULT_ERROR_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    429: "throttled",
    503: "service_unavailable",
}


class EnvelopeResponse(Response):
    """A DRF response carrying the envelope's human-readable ``message``."""

    def __init__(self, data=None, message="成功", status=None, **kwargs):
        super().__init__(data, status=status, **kwargs)
        self.envelope_message = message


def _first_error(errors, field=""):
    """The first human-readable error in a DRF error structure, prefixed with its top-level field
    (``message_ids: …`` even when the error sits on one item of a list)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            found = _first_error(value, field or str(key))
            if found:
                return found
        return ""
    if isinstance(errors, list | tuple):
        for value in errors:
            found = _first_error(value, field)
            if found:
                return found
        return ""
    text = str(errors)
    if field and field not in (api_settings.NON_FIELD_ERRORS_KEY, "detail"):
        return f"{field}: {text}"
    return text


def envelope(data, *, status_code: int, message: str | None = None) -> dict:
    if status_code < 400:
        return {
            "code": 200,
            "message": message or "成功",
            "data": data,
            "timestamp": timezone.localtime().isoformat(),
        }
    error_code = DEFAULT_ERROR_CODES.get(status_code, "error")
    if isinstance(data, dict) and "error_code" in data:
        data = dict(data)
        error_code = str(data.pop("error_code"))
    if isinstance(data, dict) and set(data) == {"detail"}:
        text, payload = str(data["detail"]), None
    else:
        text, payload = _first_error(data), data
    return {
        "code": status_code,
        "error_code": error_code,
        "message": text or DEFAULT_MESSAGES.get(status_code, "请求失败"),
        "data": payload,
        "timestamp": timezone.localtime().isoformat(),
    }


class EnvelopeJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and not getattr(response, "envelope_rendered", False):
            data = envelope(
                data,
                status_code=response.status_code,
                message=getattr(response, "envelope_message", None),
            )
        return super().render(data, accepted_media_type, renderer_context)


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API, showing exactly the enveloped JSON a client receives."""

    def get_default_renderer(self, view):
        return EnvelopeJSONRenderer()
