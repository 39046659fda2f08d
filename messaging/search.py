"""Full-text search over messages' titles and contents that works for Chinese, on every engine.

MariaDB's FULLTEXT splits words on spaces only and has no ``ngram`` parser (MDEV-10267), and SQLite
has none we can rely on, so the application keeps its own index (``MessageSearchTerm``):

* **Terms.** The text is normalised (NFKC, lower case) and cut into segments of letters and digits
  (punctuation and spaces end a segment). Each segment gives its character bigrams (「会议通知」:
  会议, 议通, 通知) and its last character alone, so every character starts at least one term.
* **Weights.** A term's weight is ``TITLE_WEIGHT`` × its occurrences in the title plus its
  occurrences in the content (capped at ``MAX_WEIGHT``).
* **Queries.** The query is cut the same way. A segment of two or more characters asks for each of
  its bigrams (exact terms); a single character asks for the terms starting with it (a range of the
  index). A message matches when it holds every part of the query; it ranks by the sum of the
  matching terms' weights (so a title hit counts more, and repeated words count), then newest first.

Bigrams can match a message holding every bigram of a longer query but not the whole phrase
(「会议室」 in a text with 「会议」 and 「议室」 apart); the ranking puts such a message after the
exact ones in practice, and for a message center this recall is what people expect.

The index is written by the message create/update services (``message_index``), backfilled by
migration 0005 and rebuilt by ``manage.py rebuild_message_search``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When

TITLE_WEIGHT = 5
MAX_WEIGHT = 32767
MAX_QUERY_PARTS = 40  # a query of 100 characters has at most 99 bigrams; 40 distinct is plenty
BATCH = 1000


def _segments(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "").lower()
    segments, current = [], []
    for ch in text:
        if ch.isalnum():
            current.append(ch)
        elif current:
            segments.append("".join(current))
            current = []
    if current:
        segments.append("".join(current))
    return segments


def text_terms(text: str) -> Counter:
    """Each term of ``text`` with its number of occurrences."""
    terms: Counter = Counter()
    for segment in _segments(text):
        for i in range(len(segment) - 1):
            terms[segment[i : i + 2]] += 1
        terms[segment[-1]] += 1
    return terms


def message_terms(*, title: str, content: str) -> dict[str, int]:
    """The weighted terms of a message (title occurrences count ``TITLE_WEIGHT`` times)."""
    weights: Counter = Counter()
    for term, n in text_terms(title).items():
        weights[term] += TITLE_WEIGHT * n
    for term, n in text_terms(content).items():
        weights[term] += n
    return {term: min(weight, MAX_WEIGHT) for term, weight in weights.items()}


def query_parts(query: str) -> list[tuple[str, str]]:
    """The parts of a query: ``("exact", bigram)`` or ``("prefix", character)``, distinct, in order."""
    parts: list[tuple[str, str]] = []
    for segment in _segments(query):
        if len(segment) == 1:
            candidates = [("prefix", segment)]
        else:
            candidates = [("exact", segment[i : i + 2]) for i in range(len(segment) - 1)]
        for part in candidates:
            if part not in parts:
                parts.append(part)
    return parts[:MAX_QUERY_PARTS]


# --- Writing the index ----------------------------------------------------------------------------


def _rows(term_model, message_id: int, title: str, content: str) -> list:
    return [
        term_model(message_id=message_id, term=term, weight=weight)
        for term, weight in message_terms(title=title, content=content).items()
    ]


def index_messages(rows: Iterable[tuple[int, str, str]], *, term_model=None) -> int:
    """(Re)write the terms of ``(id, title, content)`` rows; returns the terms written.

    ``term_model`` lets the data migration pass its historical model.
    """
    if term_model is None:
        from .models import MessageSearchTerm as term_model
    rows = list(rows)
    if not rows:
        return 0
    term_model.objects.filter(message_id__in=[pk for pk, _, _ in rows]).delete()
    objects = [obj for pk, title, content in rows for obj in _rows(term_model, pk, title, content)]
    term_model.objects.bulk_create(objects, batch_size=BATCH)
    return len(objects)


def message_index(*, message) -> None:
    """Write ``message``'s terms (called inside the create and update services' transactions)."""
    index_messages([(message.pk, message.title, message.content)])


def rebuild(*, message_model=None, term_model=None, batch: int = 500, progress=None) -> int:
    """Rebuild the whole index, ``batch`` messages per transaction; returns the messages indexed."""
    if message_model is None:
        from .models import Message as message_model
    done, last_id = 0, 0
    while True:
        rows = list(
            message_model.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "title", "content")[:batch]
        )
        if not rows:
            return done
        with transaction.atomic():
            index_messages(rows, term_model=term_model)
        done += len(rows)
        last_id = rows[-1][0]
        if progress:
            progress(done)


# --- Searching ---------------------------------------------------------------------------------


def search_filter(queryset: QuerySet, query: str) -> QuerySet:
    """``queryset`` (of ``Message``) narrowed to the messages matching ``query``, each annotated with
    ``search_rank`` (the relevance), ordered by it then newest first.

    One join to the index, grouped by message: every part of the query must be present
    (``HAVING``), the rank is the sum of the matching terms' weights. A query with no letters or
    digits matches nothing.
    """
    parts = query_parts(query)
    if not parts:
        return queryset.none()
    condition = Q()
    whens = []
    for n, (kind, text) in enumerate(parts, start=1):
        lookup = "search_terms__term" if kind == "exact" else "search_terms__term__startswith"
        condition |= Q(**{lookup: text})
        whens.append(When(**{lookup: text}, then=Value(n)))
    return (
        queryset.filter(condition)
        .annotate(
            search_parts=Count(Case(*whens, output_field=IntegerField()), distinct=True),
            search_rank=Sum("search_terms__weight"),
        )
        .filter(search_parts=len(parts))
        .order_by("-search_rank", "-published_at", "-id")
    )
