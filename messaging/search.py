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
  index). A message matches when it holds every part of the query and, for a segment of three or
  more characters, the segment itself in its title or content (the bigrams of 「会议室」 are also in
  a text holding 「会议」 and 「议室」 apart): every segment is matched as a phrase. It ranks by the
  sum of the matching terms' weights (so a title hit counts more, and repeated words count), then
  newest first.

The index is written by the message create/update services (``message_index``), backfilled by
migration 0005 and rebuilt by ``manage.py rebuild_message_search``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import (
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)

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

FOLD_FUNCTION = "wechathhu_search_fold"


def fold(text: str) -> str:
    """The normalisation of the index (NFKC, lower case), as SQLite's ``wechathhu_search_fold``."""
    return unicodedata.normalize("NFKC", text or "").lower()


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """On SQLite connections, ``wechathhu_search_fold(text)`` (``connection_created``; its ``LIKE``
    folds ASCII case only, where MariaDB's ``utf8mb4_unicode_ci`` folds case and width)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)


def _phrase_q(segment: str) -> tuple[Q, dict]:
    """The title or the content holds ``segment`` as it is (its characters adjacent): the condition
    and the aliases it needs."""
    from django.db import connection

    if connection.vendor == "sqlite":
        from django.db.models import Func, TextField

        folded = {
            field: Func(F(field), function=FOLD_FUNCTION, output_field=TextField())
            for field in ("title", "content")
        }
        return Q(search_fold_title__contains=segment) | Q(search_fold_content__contains=segment), {
            f"search_fold_{field}": expression for field, expression in folded.items()
        }
    # MariaDB: LIKE under the columns' utf8mb4_unicode_ci folds case and width like the index.
    return Q(title__icontains=segment) | Q(content__icontains=segment), {}


def search_filter(queryset: QuerySet, query: str) -> QuerySet:
    """``queryset`` (of ``Message``) narrowed to the messages matching ``query``, each annotated with
    ``search_rank`` (the relevance), ordered by it then newest first.

    Each of the query's bigrams is its own join to the index (``FilteredRelation`` on the term, an
    inner join: a message holds a term at most once), so the database starts from whichever side
    is smallest: the rarest bigram's index range, or the visible messages (the inbox's recipient
    rows, the global messages) probing each bigram on ``(term, message)``. A one-character segment
    is a semi-join to the terms starting with it, its weight a correlated sum over the message's
    terms (index ``message_search_message``). A
    segment of three or more characters must then appear as it is in the title or the content
    (``LIKE``, on the few messages that hold all its bigrams): the bigrams alone would match
    「会议」 and 「议室」 apart for 「会议室」. The rank is the sum of the matched terms' weights
    (a title hit counts ``TITLE_WEIGHT`` times). A query with no letters or digits matches nothing.
    """
    parts = query_parts(query)
    if not parts:
        return queryset.none()
    from .models import MessageSearchTerm

    rank = None
    for n, (kind, text) in enumerate(parts):
        name = f"search_term_{n}"
        if kind == "exact":
            queryset = queryset.alias(
                **{name: FilteredRelation("search_terms", condition=Q(search_terms__term=text))}
            ).filter(**{f"{name}__weight__isnull": False})
            weight = F(f"{name}__weight")
        else:
            weight = Subquery(
                MessageSearchTerm.objects.filter(message_id=OuterRef("pk"), term__istartswith=text)
                .order_by()
                .values("message_id")
                .annotate(total=Sum("weight"))
                .values("total")[:1],
                output_field=IntegerField(),
            )
            # Found through a semi-join (the database may start from the character's range of
            # the index, or probe each visible message on (message, term)); summed per message.
            holders = MessageSearchTerm.objects.filter(term__istartswith=text).values("message_id")
            queryset = queryset.alias(**{name: weight}).filter(pk__in=holders)
            weight = F(name)
        rank = weight if rank is None else rank + weight
    for segment in dict.fromkeys(s for s in _segments(query) if len(s) >= 3):
        condition, aliases = _phrase_q(segment)
        queryset = queryset.alias(**aliases).filter(condition)
    return queryset.annotate(search_rank=ExpressionWrapper(rank, output_field=IntegerField())).order_by(
        "-search_rank", "-published_at", "-id"
    )
