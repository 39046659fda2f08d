"""The clock-in filter language of the 报名记录 list (e.g. 「签到了但未签退」).

Grammar (whitespace and the particles 了 / 的 / 但 only separate words)::

    expr    := and_expr ( "或" and_expr )*
    and_expr:= unary ( "且"? unary )*          -- adjacent terms are joined by AND
    unary   := "未" unary | primary
    primary := LABEL | "(" expr ")"             -- ASCII or full-width parentheses

A LABEL means "this person has a clock-in record for the item with exactly this label". When the
labels are known (one activity's items), adjacent labels need no space: a run of characters is split
into known labels by longest match (「签到签退」 = 签到 且 签退).
``parse`` builds a small tree; ``to_q`` compiles it to one ``Q`` of ``Exists`` sub-queries
(so a whole filter is a single SQL query), and ``evaluate`` is the plain Python meaning used by the
tests to check the SQL. Every mistake raises ``FilterError`` with the 0-based position it is at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q

AND, OR, NOT, LPAREN, RPAREN, LABEL, END = "且", "或", "未", "(", ")", "label", "end"
PARTICLES = frozenset("了的但")
PARENS = {"(": LPAREN, "（": LPAREN, ")": RPAREN, "）": RPAREN}
OPERATORS = {"且": AND, "或": OR, "未": NOT}
RESERVED = frozenset("且或未了的但()（）")
MAX_LENGTH = 500
MAX_DEPTH = 40
LABEL_RULE = "标签中不得包含空白字符或下列字符之一：且 或 未 了 的 但 ( ) （ ）"


def validate_label(value: str) -> None:
    """Labels must not contain what the filter language reads as operators (used on every form)."""
    if not value or any(ch.isspace() or ch in RESERVED for ch in value):
        raise ValidationError(LABEL_RULE, code="invalid_label")


class FilterError(ValueError):
    """A mistake in a filter expression, at ``position`` (0-based character index)."""

    def __init__(self, message: str, *, position: int, length: int = 1, text: str = ""):
        self.reason = message
        self.position = position
        self.length = max(length, 1)
        self.text = text
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"第 {self.position + 1} 个字符处：{self.reason}"

    @property
    def marked(self) -> str:
        """The expression with the mistake framed by 【】 (an empty 【】 at the end when it is missing)."""
        t, p, n = self.text, self.position, self.length
        return f"{t[:p]}【{t[p : p + n]}】{t[p + n :]}"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class Label:
    name: str
    position: int


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


Node = Label | Not | And | Or


def _split_labels(run: str, start: int, known: frozenset[str] | None) -> list[Token]:
    """A run of label characters as label tokens: itself when it is a label (or no labels are
    known), else the known labels it is made of, longest match first (「签到签退」 is 签到, 签退).
    What no known label starts is left as one token, so the parser names it at its position."""
    if known is None or run in known:
        return [Token(LABEL, run, start)]
    longest = max((len(label) for label in known), default=0)
    tokens, i = [], 0
    while i < len(run):
        for size in range(min(longest, len(run) - i), 0, -1):
            if run[i : i + size] in known:
                tokens.append(Token(LABEL, run[i : i + size], start + i))
                i += size
                break
        else:
            tokens.append(Token(LABEL, run[i:], start + i))
            break
    return tokens


def tokenize(text: str, known: frozenset[str] | None = None) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch in PARTICLES:
            i += 1
        elif ch in PARENS:
            tokens.append(Token(PARENS[ch], ch, i))
            i += 1
        elif ch in OPERATORS:
            tokens.append(Token(OPERATORS[ch], ch, i))
            i += 1
        else:
            start = i
            while i < n and not (text[i].isspace() or text[i] in RESERVED):
                i += 1
            tokens.extend(_split_labels(text[start:i], start, known))
    tokens.append(Token(END, "", n))
    return tokens


class _Parser:
    def __init__(self, text: str, known: frozenset[str] | None):
        self.text = text
        self.known = known
        self.tokens = tokenize(text, known)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def error(self, reason: str, token: Token) -> FilterError:
        return FilterError(reason, position=token.position, length=len(token.text), text=self.text)

    def parse(self) -> Node:
        node = self.expr()
        token = self.current
        if token.kind == RPAREN:
            raise self.error("多余的右括号「)」，没有与之对应的左括号。", token)
        if token.kind != END:  # pragma: no cover - and_expr consumes every term that can follow
            raise self.error(f"无法理解「{token.text}」。", token)
        return node

    def expr(self) -> Node:
        node = self.and_expr()
        while self.current.kind == OR:
            self.index += 1
            node = Or(node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while True:
            kind = self.current.kind
            if kind == AND:
                self.index += 1
                node = And(node, self.unary())
            elif kind in (LABEL, NOT, LPAREN):
                node = And(node, self.unary())
            else:
                return node

    def unary(self) -> Node:
        token = self.current
        if token.kind == NOT:
            self.index += 1
            self.enter(token)
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"嵌套过深（最多 {MAX_DEPTH} 层）。", token)

    def primary(self) -> Node:
        token = self.current
        if token.kind == LABEL:
            self.index += 1
            if self.known is not None and token.text not in self.known:
                available = "、".join(sorted(self.known)) or "（该活动还没有打卡项）"
                raise self.error(f"没有名为「{token.text}」的打卡项。可用的打卡项：{available}", token)
            return Label(token.text, token.position)
        if token.kind == LPAREN:
            self.index += 1
            self.enter(token)
            if self.current.kind == RPAREN:
                raise self.error("括号内缺少打卡项。", self.current)
            node = self.expr()
            self.depth -= 1
            if self.current.kind != RPAREN:
                raise self.error("左括号「(」缺少与之对应的右括号「)」。", token)
            self.index += 1
            return node
        if token.kind == END:
            previous = self.tokens[self.index - 1] if self.index else None
            if previous is None:
                raise self.error("表达式中没有打卡项。", token)
            raise self.error(f"「{previous.text}」之后缺少打卡项。", token)
        if token.kind == RPAREN:
            raise self.error("右括号「)」之前缺少打卡项。", token)
        raise self.error(f"「{token.text}」之前缺少打卡项。", token)


def parse(text: str, *, known_labels: Iterable[str] | None = None) -> Node | None:
    """Parse ``text``; ``None`` for an empty expression (no filtering).

    With ``known_labels`` every label must be one of them (an unknown label is an error at its
    position, never a silent "matches nothing").
    """
    if len(text) > MAX_LENGTH:
        raise FilterError(f"表达式过长（最多 {MAX_LENGTH} 个字符）。", position=MAX_LENGTH, text=text)
    if not text.strip():
        return None
    known = frozenset(known_labels) if known_labels is not None else None
    return _Parser(text, known).parse()


def labels_of(node: Node | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, Label):
        return {node.name}
    if isinstance(node, Not):
        return labels_of(node.operand)
    return labels_of(node.left) | labels_of(node.right)


def evaluate(node: Node | None, labels: set[str]) -> bool:
    """The meaning of ``node`` for a person who clocked in to the items named ``labels``."""
    if node is None:
        return True
    if isinstance(node, Label):
        return node.name in labels
    if isinstance(node, Not):
        return not evaluate(node.operand, labels)
    if isinstance(node, And):
        return evaluate(node.left, labels) and evaluate(node.right, labels)
    return evaluate(node.left, labels) or evaluate(node.right, labels)


def to_q(node: Node | None, leaf: Callable[[str], Q]) -> Q:
    """Compile ``node`` to one ``Q``; ``leaf(label)`` gives the condition for one label."""
    if node is None:
        return Q()
    if isinstance(node, Label):
        return leaf(node.name)
    if isinstance(node, Not):
        return ~to_q(node.operand, leaf)
    if isinstance(node, And):
        return to_q(node.left, leaf) & to_q(node.right, leaf)
    return to_q(node.left, leaf) | to_q(node.right, leaf)
