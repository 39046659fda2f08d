"""工号/学号 as people type them: one account, one spelling.

A number is compared by its *key*: NFKC (full-width ``Ｔ１００１`` is ``T1001``), surrounding space
removed, case folded (``t1001`` is ``T1001``). MariaDB's collation already treats ``t1001``, ``T1001``
and even ``Ť1001`` as equal, SQLite does not: the key makes every engine agree, and makes every
spelling of one account count against that account's login limit. A name that is not a well-formed
number after NFKC (``Ť1001``) matches no account at all, whatever the collation thinks.
"""

import re
import unicodedata

WELL_FORMED = re.compile(r"^[A-Za-z0-9_.@+-]+$")


def username_normalize(raw) -> str:
    """The spelling stored and looked up: NFKC, without surrounding white space (case kept)."""
    return unicodedata.normalize("NFKC", str(raw or "")).strip()


def username_key(raw) -> str:
    """The account a spelling means: the normalised name, case folded."""
    return username_normalize(raw).casefold()


def username_is_well_formed(name: str) -> bool:
    """Only ASCII letters, digits and ``_ . @ + -`` (what an account may be created with)."""
    return bool(WELL_FORMED.match(name)) and len(name) <= 150
