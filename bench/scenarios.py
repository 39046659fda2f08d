"""The hot endpoints the benchmark drives. Each scenario turns the bench context (users' tokens,
ids of built data) into a list of requests: (method, path, Authorization header, JSON body)."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from .data import PASSWORD


@dataclass
class Context:
    tokens: list[tuple[int, str]]  # (user id, token key)
    usernames: list[str]


@dataclass
class Scenario:
    name: str
    build: Callable[[Context], list[tuple[str, str, str, str]]]
    target_p50_ms: float | None = None  # the target, checked in the report
    baseline: bool = False


def _auth(key: str) -> str:
    return f"Bearer {key}"


def _each_user(path: str, method: str = "GET", body: str = "") -> Callable[[Context], list]:
    return lambda ctx: [(method, path, _auth(key), body) for _, key in ctx.tokens]


def _login(ctx: Context) -> list:
    return [
        (
            "POST",
            "/auth/get-token/",
            "",
            json.dumps({"username": name, "password": PASSWORD, "device": "bench"}),
        )
        for name in ctx.usernames
    ]


SCENARIOS = [
    Scenario("baseline (ping)", _each_user("/api/v1/ping"), baseline=True),
    Scenario("login (password)", _login),
    Scenario("current user", _each_user("/current-user/")),
    Scenario("departments", _each_user("/departments/")),
]
