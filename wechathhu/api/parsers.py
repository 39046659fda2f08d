"""DRF's JSON parser with a nesting limit (``wechathhu.core.jsonsafe``): a body nested ~1 000
levels deep is a 400 like any malformed JSON, on every endpoint (login included), not a 500."""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

from wechathhu.core import jsonsafe


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        try:
            return jsonsafe.loads(text, parse_constant=drf_json.strict_constant if self.strict else None)
        except jsonsafe.JSONTooDeep as exc:
            raise ParseError(str(exc), code="too_deep") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
