"""The directory's search index: which users a search term can match, found through an index
instead of a scan of every user.

A directory search term matches a user by substring of the name, post, phones or QQ, by the number,
by the department's name or by a prefix of the name's pinyin or initials (``selectors._term_q``).
No B-tree index serves a substring match, so at 50 000 users every search read the whole table.
The application keeps its own index (``DirectoryTerm``), the same idea as the message search
(``messaging.search``), kept per user rather than per text:

* **Terms.** Each of a user's searchable texts (the list is ``INDEXED_TEXTS``) is normalised (NFKC,
  accents dropped, lower case) and cut into runs of letters and digits; each run gives its
  character bigrams and its last character alone, so every character starts at least one term.
  A user's terms are a set: which text a term came from is not kept.
* **Candidates.** A search term is cut the same way; a run of two or more characters asks for each
  of its bigrams, a single character for the terms starting with it. Every text that holds the
  search term (as a substring or as a prefix) holds all of these, so the users holding all of them
  are a superset of the matches. The selector keeps the original conditions on top
  (``selectors._term_q``, with the viewer's privacy rule): the index only narrows which rows are
  read, it never decides what is found or shown. Each part is a ``pk IN (SELECT user_id …)``
  conjunct that the database resolves from the ``(term, user)`` primary key (a semi-join).
* **Kept by** a ``post_save`` of the user (unless only other fields were saved) and of a
  department (its users' department name), by the pinyin refresh, and rebuilt by
  ``manage.py rebuild_directory_search`` and the bench's builder (which insert in bulk).

Texts of fields a viewer may not see are indexed too: the index is never shown, and a row it lets
through still has to match a field the viewer may see.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet

# The user's fields whose texts are indexed (the department's name is added by ``_texts``).
INDEXED_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "name_pinyin",
    "name_initials",
    "post",
    "phone",
    "tel",
    "qq",
    "department",
    "department_id",
)
MAX_PARTS = 4  # a candidate filter: a few parts narrow as well as all of them, at less cost
BATCH = 500


def _runs(text: str) -> list[str]:
    """Runs of letters and digits of the normalised text (NFKC, no accents, lower case)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or ""))
    text = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    runs, current = [], []
    for ch in text.lower():
        if ch.isalnum():
            current.append(ch)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def text_terms(*texts: str) -> set[str]:
    """The terms of some texts: each run's bigrams and its last character."""
    terms: set[str] = set()
    for text in texts:
        for run in _runs(text):
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
            terms.add(run[-1])
    return terms


def query_parts(term: str) -> list[tuple[str, str]]:
    """What a user must hold to possibly match ``term``: ``("exact", bigram)`` or ``("prefix",
    character)``, distinct, at most ``MAX_PARTS``. Empty when the term has no letter or digit
    (then the index cannot narrow anything)."""
    parts: list[tuple[str, str]] = []
    for run in _runs(term):
        wanted = (
            [("prefix", run)] if len(run) == 1 else [("exact", run[i : i + 2]) for i in range(len(run) - 1)]
        )
        for part in wanted:
            if part not in parts:
                parts.append(part)
    return parts[:MAX_PARTS]


def candidates_filter(queryset: QuerySet, term: str) -> QuerySet:
    """``queryset`` (of users) narrowed to the users holding every part of ``term`` in the index."""
    from .models import DirectoryTerm

    for kind, text in query_parts(term):
        # istartswith: MariaDB's ``startswith`` is ``LIKE BINARY``, which reads the whole index
        # (terms are stored in lower case, so the two match the same rows)
        condition = Q(term=text) if kind == "exact" else Q(term__istartswith=text)
        queryset = queryset.filter(pk__in=DirectoryTerm.objects.filter(condition).values("user_id"))
    return queryset


# --- Writing the index ----------------------------------------------------------------------------

_ROW_FIELDS = ("pk", *INDEXED_FIELDS[:-2], "department__name")


def _texts(row: tuple) -> tuple[str, ...]:
    """A row's searchable texts; the name as the directory searches it, surname and given name
    together (``selectors``' ``directory_name``)."""
    _, username, first_name, last_name, *others = (value or "" for value in row)
    return (username, f"{last_name}{first_name}", *others)


def index_users(user_ids: Iterable[int], *, user_model=None, term_model=None) -> int:
    """(Re)write the terms of these users; returns the terms written. ``user_model`` and
    ``term_model`` let the data migration pass its historical models."""
    if user_model is None or term_model is None:
        from .models import DirectoryTerm as term_model
        from .models import User as user_model
    ids = sorted({int(pk) for pk in user_ids})
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = user_model.objects.filter(pk__in=chunk).values_list(*_ROW_FIELDS)
        objects = [term_model(user_id=row[0], term=term) for row in rows for term in text_terms(*_texts(row))]
        with transaction.atomic():
            term_model.objects.filter(user_id__in=chunk).delete()
            # ignore_conflicts: a case- and accent-blind collation may call two terms the same
            term_model.objects.bulk_create(objects, batch_size=2000, ignore_conflicts=True)
        written += len(objects)
    return written


def index_department_users(department_id: int) -> int:
    from .models import User

    return index_users(User.objects.filter(department_id=department_id).values_list("pk", flat=True))


def rebuild(*, user_model=None, term_model=None, batch: int = BATCH, progress=None) -> int:
    """Rebuild the whole index in batches of users; returns the users indexed."""
    if user_model is None:
        from .models import User as user_model
    done, last_id = 0, 0
    while True:
        ids = list(
            user_model.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return done
        index_users(ids, user_model=user_model, term_model=term_model)
        done += len(ids)
        last_id = ids[-1]
        if progress:
            progress(done)
