"""A short-lived cache of login tokens with their users, so that a request with a token known
to the cache runs no SQL at all (``TOKEN_CACHE_SECONDS``; on by default only with Redis, a cache
every process shares).

Each token has two entries, read together in one round trip: the token with its user
(``entry``), and a **version** (``version``). Whatever could make a cached token wrong — the token
revoked or expired, its user saved (deactivated, a new password, a new name …), the user's
department renamed — sets a new version for the tokens concerned and drops their entries, at
once and again after the transaction commits (see ``accounts.signals``). An entry counts only
while it carries the token's current version, and a request stores what it read from the
database with the version it saw *before* reading. So an entry written by a request that read
the database just before a revocation committed is never used: the revocation's new version
is set after its commit. Versions outlive entries (``VERSION_SECONDS``), so a version cannot
expire while an entry it would reject is still alive.

A cache that cannot be reached is a miss, never an error: the database answers.
"""

import hashlib
import logging
import secrets

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

logger = logging.getLogger(__name__)

ENTRY = "auth:token:"
VERSION = "auth:token-version:"


def is_cache_outage(exc: BaseException) -> bool:
    from wechathhu.api.exceptions import is_cache_outage  # imports DRF, which imports this module

    return is_cache_outage(exc)


def enabled() -> bool:
    return settings.TOKEN_CACHE_SECONDS > 0


def _cache():
    return caches[settings.TOKEN_CACHE_ALIAS]


def _digest(key: str) -> str:
    # The cache never holds the key itself (a cache listing reveals no usable token).
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def version_seconds() -> int:
    """Longer than an entry lives plus the longest request, so an entry never outlives the
    version that would reject it."""
    return 2 * settings.TOKEN_CACHE_SECONDS + 120


def get(key: str):
    """``(token, version)``: the cached token (with ``token.user`` loaded), or ``None`` when
    there is none for this version; ``version`` is what ``put`` must store with a token read
    from the database now."""
    digest = _digest(key)
    try:
        found = _cache().get_many([ENTRY + digest, VERSION + digest])
    except Exception as exc:
        if not is_cache_outage(exc):
            raise
        logger.warning("Token cache unavailable: %r", exc)
        return None, _UNAVAILABLE
    version = found.get(VERSION + digest)
    entry = found.get(ENTRY + digest)
    if entry is not None and entry[0] == version and entry[1].key == key:
        return entry[1], version
    return None, version


_UNAVAILABLE = object()


def put(token, version) -> None:
    """Cache ``token`` (``token.user`` loaded) as read from the database after ``get`` gave
    ``version``."""
    if version is _UNAVAILABLE:
        return
    try:
        _cache().set(ENTRY + _digest(token.key), (version, token), timeout=settings.TOKEN_CACHE_SECONDS)
    except Exception as exc:
        if not is_cache_outage(exc):
            raise
        logger.warning("Token cache unavailable: %r", exc)


def _invalidate_now(keys) -> None:
    digests = [_digest(key) for key in keys]
    if not digests:
        return
    try:
        cache = _cache()
        cache.set_many(
            {VERSION + digest: secrets.token_hex(8) for digest in digests}, timeout=version_seconds()
        )
        cache.delete_many([ENTRY + digest for digest in digests])
    except Exception as exc:
        if not is_cache_outage(exc):
            raise
        # Entries written before the outage live at most TOKEN_CACHE_SECONDS.
        logger.warning("Token cache unavailable, %d token(s) not invalidated: %r", len(digests), exc)


def invalidate(keys) -> None:
    """The cached tokens ``keys`` are no longer valid as cached: now, and after this transaction
    commits (when a reader can no longer see the state before it)."""
    if not enabled():
        return
    keys = list(keys)
    _invalidate_now(keys)
    transaction.on_commit(lambda: _invalidate_now(keys))


def invalidate_where(**lookups) -> None:
    """Every token matching ``lookups`` (``user_id=…``, ``user__department_id=…``), now and
    after this transaction commits (tokens created in it are found then)."""
    if not enabled():
        return
    from .models import AuthToken

    def keys():
        return set(AuthToken.objects.filter(**lookups).values_list("key", flat=True))

    before = keys()  # a deletion may have moved them out of ``lookups`` by the commit
    _invalidate_now(before)
    transaction.on_commit(lambda: _invalidate_now(before | keys()))
