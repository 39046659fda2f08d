"""JSON from outside read with a nesting limit.

Python's ``json`` recurses once per level: ~1 000 levels (2 KB of ``[``) end in a RecursionError,
a 500 wherever it is not caught. Everything that parses JSON a client or a staff member wrote
(request bodies, the enrollment form and answers) goes through ``loads`` here: too deep is a
``ValueError`` like any other malformed JSON, found by one linear scan before parsing.
"""

import json
import re
from typing import Any

MAX_DEPTH = 64
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JSONTooDeep(ValueError):
    def __init__(self, max_depth: int):
        self.max_depth = max_depth
        super().__init__(f"JSON 嵌套层数过多（最多 {max_depth} 层）。")


def depth_exceeds(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``max_depth`` (brackets inside strings
    do not count). Cheap when there are fewer brackets than the limit."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > max_depth:
                return True
        elif piece in ("]", "}"):
            depth -= 1
    return False


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, **kwargs) -> Any:
    """``json.loads`` that raises ``JSONTooDeep`` (a ``ValueError``) past ``max_depth`` levels."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    if depth_exceeds(text, max_depth):
        raise JSONTooDeep(max_depth)
    return json.loads(text, **kwargs)
