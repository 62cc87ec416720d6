"""Global search over customer records (and later opportunities, cases, quotes).

The interface every app uses; the index itself is built in this package:
- ``index(instance)`` after a searchable record is created or changed,
- ``index_many(records)`` after a bulk change (owner, team: who may find them),
- ``unindex(instance)`` before it is deleted,
- ``search(user=..., q=..., kinds=None, limit=...)`` for the search box and the API,
- ``filter_matching(rows, kind=..., q=...)`` for the quick filter of a list,
- ``rebuild(kinds=None, progress=...)`` after bulk loads (demo data, imports).
A searchable model defines ``search_document()`` returning a ``SearchDocument``; its
app registers it (``register_kind(Kind(...))``) in ``AppConfig.ready()``.
"""

import dataclasses
import time
from collections.abc import Callable, Iterable
from uuid import UUID

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.functional import Promise

from kontor.core.models import SearchEntry
from kontor.core.search.backends import ANY, IN_TITLE, backend_for
from kontor.core.search.bulk import COLUMNS, rebuild_all
from kontor.core.search.tokens import (
    SearchDocument,
    clean_query,
    document_tokens,
    parse_query,
    sort_key,
)

__all__ = [
    "KINDS",
    "Kind",
    "SearchDocument",
    "SearchResults",
    "filter_matching",
    "index",
    "index_many",
    "rebuild",
    "register_kind",
    "search",
    "unindex",
]


@dataclasses.dataclass(frozen=True)
class Kind:
    """A searchable model. ``follows``: (kind, foreign key) whose title is part of
    this kind's documents, so a renamed organization reindexes its persons."""

    key: str
    model: str  # "app_label.Model": core imports no domain app
    label: Promise
    url_name: str
    related: tuple[str, ...] = ()
    # Of the related records, only these fields are loaded by the rebuild.
    related_fields: tuple[str, ...] = ()
    follows: tuple[str, str] | None = None
    # Of the record's own fields, the ones its document reads (besides the primary
    # key, uuid, owner and team), loaded by the rebuild; empty: all of them. Fewer
    # columns are less to fetch and convert (the timestamps' parsing alone cost a
    # tenth of the rebuild). A field missing here is loaded row by row: slow, not
    # wrong; tests/core/test_search.py pins the rebuild's queries to catch it.
    fields: tuple[str, ...] = ()
    # A function (*, user, hits) -> hits that takes out of the stored titles and
    # subtitles what ``user`` may not see (a person's organization the user may not
    # see, whose name the person's subtitle holds). One query a page.
    hits_for_user: Callable | None = None

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def records(self):
        """The records with what their documents need, in as few columns as safe:
        all of the record's own fields, only ``related_fields`` of related records."""
        model = self.model_class
        records = model.objects.select_related(*self.related)
        if self.related_fields:
            own = [f.name for f in model._meta.concrete_fields]
            records = records.only(*own, *self.related_fields)
        return records


# The searchable kinds, registered by their apps in ``AppConfig.ready()`` (customers:
# persons, organizations) with ``register_kind``. Also the order of the groups in the
# results: the order of registration.
KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    """Make ``kind`` searchable. Call it from the app's ``AppConfig.ready()``: the API
    reads the known kinds when its URLs load."""
    KINDS[kind.key] = kind


DEFAULT_LIMIT = 10
MAX_LIMIT = 50
BATCH = 5_000


def _kind_of(instance) -> Kind | None:
    label = instance._meta.label
    return next((k for k in KINDS.values() if k.model == label), None)


# --- Reading ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hit:
    kind: str
    uuid: UUID
    title: str
    subtitle: str
    # Found only by sound (a typo), not by spelling.
    phonetic: bool

    @property
    def url(self) -> str:
        return reverse(KINDS[self.kind].url_name, args=[self.uuid])


@dataclasses.dataclass(frozen=True)
class Group:
    kind: str
    label: Promise
    hits: list[Hit]
    more: bool  # there are more hits than the limit


@dataclasses.dataclass(frozen=True)
class SearchResults:
    query: str
    groups: list[Group]

    @property
    def empty(self) -> bool:
        return not self.groups


def search(*, user, q: str | None, kinds: Iterable[str] | None = None, limit: int = DEFAULT_LIMIT):
    """The records matching ``q`` that ``user`` may see, grouped by kind, at most
    ``limit`` per kind: first the names the query begins (a person's surname, an
    organization's first word, "Müller Hans" either way round: ``_sorted_first``),
    then the others matching by spelling, then those found only by the sound of a
    word (a typo); alphabetical within each, and within the page the records whose
    title matches before those matching elsewhere. Per kind a query per beginning of
    a name, one for the others, and one for sound-alikes, each only while the page
    is not full; nothing at all for an empty query. A common word is read along the
    sort index, which stops at the page, so it costs no more than a rare one; a rare
    word or a typo, for which that walk would read the whole kind (3 to 7 s at a
    million persons), is read from the full-text index and sorted
    (``backend.lookup``).

    (A ranking by tiers — whole title word, title prefix, title sound, other fields —
    was tried and measured: with a query per tier, the tiers without matches walked
    the whole sort index, 2 s per search at a million persons. Ranking across the
    whole result needs an index that orders by rank; until then it is per page.)"""
    query = clean_query(q)
    terms = parse_query(query)
    wanted = [k for k in KINDS if kinds is None or k in set(kinds)]
    limit = max(1, min(int(limit), MAX_LIMIT))
    if not terms or not wanted:
        return SearchResults(query=query, groups=[])
    backend = backend_for(connection)
    visible = SearchEntry.objects.visible_to(user)
    phonetic = any(t.phonetic for t in terms)
    selective = (
        len(terms) >= 3
        or any(t.selective for t in terms)
        or any(p.isdigit() and len(p) >= 5 for t in terms for p in t.prefixes)
    )
    columns = ("uuid", "title", "subtitle")
    groups = []
    # Worth asking whether the words match few: not for words of one or two letters,
    # which match many at any size worth searching.
    ask = selective or any(max(map(len, t.prefixes)) > 2 for t in terms)
    spelled = backend.lookup(terms, ask=ask)
    sounding = None
    leading = [] if selective else _leading(terms)
    for key in wanted:
        entries = visible.filter(kind=key).order_by(backend.sort(selective=selective), "id")
        sorted_here = backend.text_driven(visible, key).order_by(backend.text_sort(), "id")
        found, beyond = _sorted_first(entries, leading, spelled, backend, limit)
        if len(found) > limit:
            groups.append(_group(user, key, found, limit))
            continue
        if beyond is not None:
            entries = entries.alias(lead=backend.sort()).exclude(beyond)
            sorted_here = sorted_here.alias(lead=backend.sort()).exclude(beyond)
        page = (
            (sorted_here if spelled.few else entries)
            .filter(spelled.condition)
            .annotate(in_title=backend.matches(terms, spelling=IN_TITLE))
            .values_list(*columns, "in_title")[: limit + 1 - len(found)]
        )
        # Within the page: title matches first (a stable sort keeps the alphabet).
        found += [(*row[:3], False) for row in sorted(page, key=lambda row: not row[3])]
        if phonetic and len(found) <= limit:
            # Common by spelling: common by sound too, which includes it.
            sounding = sounding or backend.lookup(terms, ask=spelled.few, sound=ANY)
            sound_alikes = (
                (sorted_here if sounding.few else entries)
                .filter(sounding.condition)
                .exclude(spelled.condition)
                .values_list(*columns)[: limit + 1 - len(found)]
            )
            found += [(*row, True) for row in sound_alikes]
        if found:
            groups.append(_group(user, key, found, limit))
    return SearchResults(query=query, groups=groups)


def _group(user, key: str, found: list[tuple], limit: int) -> Group:
    hits = [Hit(kind=key, uuid=u, title=t, subtitle=s, phonetic=p) for u, t, s, p in found[:limit]]
    if KINDS[key].hits_for_user is not None:
        hits = KINDS[key].hits_for_user(user=user, hits=hits)
    return Group(key, KINDS[key].label, hits, more=len(found) > limit)


# Sort keys looked up by their beginning: at most this many beginnings per search.
MAX_LEADING = 4


def _leading(terms) -> list[tuple[str, bool]]:
    """What a sort key may begin with to be a name sought, and whether every key
    beginning so matches the query: for one word its spellings (a person's surname,
    the first word of an organization's name); for two or more, the first two words
    in either order ("Müller Hans", "Hans Müller": the key "mueller hans"). A name
    of three letters or more: shorter ones begin too many keys to help.

    A key's words are spellings of the title's, so a key beginning with the query's
    own spellings matches one or two words; an umlaut spelled out ("mueller" for a
    typed "muller") almost always does, but not always ("maeuer" for "mauer")."""
    if len(terms) == 1:
        (term,) = terms
        found = [(v, v in term.prefixes) for p in _names(term) for v in _umlauts_spelled_out(p)]
    else:
        first, second = terms[:2]
        found = [
            (f"{name} {other.prefixes[0]}", len(terms) == 2)
            for one, other in ((first, second), (second, first))
            for name in _names(one)
            if other.prefixes[0].isalpha()
        ]
    return list(dict(found).items())[:MAX_LEADING]


def _names(term) -> list[str]:
    return [p for p in term.prefixes if len(p) >= 3 and p.isalpha()]


def _umlauts_spelled_out(word: str) -> list[str]:
    """``word`` and, for a vowel that could be an umlaut typed without one, the
    word with it spelled out ("muller": "mueller"), as the sort keys hold it."""
    variants = [""]
    for i, char in enumerate(word):
        could_be_umlaut = char in "aou" and word[i + 1 : i + 2] != "e"
        # At most MAX_LEADING variants: a long word of many vowels would double them.
        expand = could_be_umlaut and len(variants) < MAX_LEADING
        variants = [v + c for v in variants for c in ((char, char + "e") if expand else (char,))]
    return variants


def _sorted_first(entries, leading, spelled, backend, limit):
    """The matches whose sort key begins with one of ``leading`` (the Müllers for
    "Müller", before everyone at a Müller GmbH), up to ``limit + 1`` rows, whole
    words first; and the condition that excludes them from the rest (None when
    there are none, or they fill the page).

    A common surname sits together in the alphabet: walking the sort index for
    title matches would read half of it before the first, but a range of the sort
    index is read in order and stops at the page. One query per beginning."""
    key = backend.sort()
    ranges = [(p, p[:-1] + chr(ord(p[-1]) + 1), matches) for p, matches in leading]
    rows = []
    for low, high, matches in ranges:
        in_range = entries.alias(lead=key).filter(lead__gte=low, lead__lt=high)
        if not matches:
            in_range = in_range.filter(spelled.condition)
        rows += in_range.values_list("uuid", "title", "subtitle", "sort_key", "id")[: limit + 1]

    def whole(sort_key: str) -> bool:
        return any(sort_key == p or sort_key.startswith(p + " ") for p, _matches in leading)

    rows = sorted(
        {row[0]: row for row in rows}.values(), key=lambda row: (not whole(row[3]), row[3], row[4])
    )
    found = [(row[0], row[1], row[2], False) for row in rows[: limit + 1]]
    if not found or len(found) > limit:
        return found, None
    beyond = Q()
    for low, high, _matches in ranges:
        beyond |= Q(lead__gte=low, lead__lt=high)
    return found, beyond


def filter_matching(rows: QuerySet, *, kind: str, q: str | None) -> QuerySet:
    """``rows`` (records of ``kind``: a list, with its visibility, filters and order)
    narrowed to those matching ``q``; none when ``q`` holds nothing searchable
    ("*", "-"), as in the search box.

    The words match by spelling as in ``search`` (umlauts either way, prefixes,
    e-mail addresses, phone numbers in any notation, customer numbers), and a typo
    by sound in the title only: a list is sorted by name, not by rank, so the
    sound-alikes of a short prefix in other fields ("Mus" sounds like Mainz and
    Münster) would bury the names sought among everyone living there. No cap on the
    number of matches."""
    terms = parse_query(clean_query(q))
    if not terms:
        return rows.none()
    backend = backend_for(connection)
    return backend.filter_records(rows, kind, terms, spelling=ANY, sound=IN_TITLE)


# --- Writing ----------------------------------------------------------------------------


def _row(kind: Kind, record) -> tuple:
    """The entry of ``record`` as a row in ``bulk.COLUMNS`` order (no model instance:
    the rebuild makes a million of them)."""
    doc: SearchDocument = record.search_document()
    return (
        kind.key,
        record.pk,
        record.uuid,
        record.owner_id,
        record.team_id,
        doc.title[:300],
        doc.subtitle[:300],
        sort_key(doc.sort_key or doc.title),
        document_tokens(doc),
    )


def _entry(kind: Kind, record) -> SearchEntry:
    return SearchEntry(**dict(zip(COLUMNS, _row(kind, record), strict=True)))


def _delete(kind: Kind, object_ids: list[int]) -> None:
    if not object_ids:
        return
    where = "kind = %s AND object_id IN (" + ", ".join(["%s"] * len(object_ids)) + ")"
    with connection.cursor() as cursor:
        backend_for(connection).before_delete(cursor, where, [kind.key, *object_ids])
    SearchEntry.objects.filter(kind=kind.key, object_id__in=object_ids).delete()


def _replace(kind: Kind, records: list) -> list[SearchEntry]:
    """Index ``records`` afresh: delete their entries, insert new ones."""
    ids = [r.pk for r in records]
    _delete(kind, ids)
    entries = SearchEntry.objects.bulk_create([_entry(kind, r) for r in records])
    where = "kind = %s AND object_id IN (" + ", ".join(["%s"] * len(ids)) + ")"
    with connection.cursor() as cursor:
        backend_for(connection).after_insert(cursor, where, [kind.key, *ids])
    return entries


def index(instance) -> None:
    """(Re)index one record. Called by services inside their transaction. When the
    record's title is part of other records' documents (an organization's name in
    its persons'), and it changed, those are reindexed too."""
    kind = _kind_of(instance)
    if kind is None:
        return
    dependents = [k for k in KINDS.values() if k.follows and k.follows[0] == kind.key]
    old_title = None
    if dependents:
        old_title = (
            SearchEntry.objects.filter(kind=kind.key, object_id=instance.pk)
            .values_list("title", flat=True)
            .first()
        )
    with transaction.atomic():
        (entry,) = _replace(kind, [instance])
        if old_title is not None and old_title != entry.title:
            for dependent in dependents:
                _reindex_where(dependent, **{dependent.follows[1]: instance.pk})


def index_many(records: Iterable) -> None:
    """(Re)index many records in bulk, e.g. after a bulk change of owner or team,
    which decides who finds them. Records of any searchable models, mixed."""
    by_kind: dict[str, list] = {}
    for record in records:
        kind = _kind_of(record)
        if kind is not None:
            by_kind.setdefault(kind.key, []).append(record)
    with transaction.atomic():
        for key, found in by_kind.items():
            for chunk in _chunks(found, BATCH):
                _replace(KINDS[key], chunk)


def unindex(instance) -> None:
    """Remove one record from the index. Called by services before deleting it.
    Records whose documents include this one's title are reindexed after commit,
    when their reference to it is gone."""
    kind = _kind_of(instance)
    if kind is None:
        return
    _delete(kind, [instance.pk])
    for dependent in KINDS.values():
        if dependent.follows and dependent.follows[0] == kind.key:
            field = dependent.follows[1]
            ids = list(
                dependent.model_class.objects.filter(**{field: instance.pk}).values_list(
                    "pk", flat=True
                )
            )
            if ids:
                transaction.on_commit(
                    lambda d=dependent, ids=ids: _reindex_where(d, pk__in=ids),
                    robust=True,
                )


def _reindex_where(kind: Kind, **lookup) -> None:
    records = kind.records().filter(**lookup)
    with transaction.atomic():
        for chunk in _chunks(records.order_by("pk").iterator(chunk_size=BATCH), BATCH):
            _replace(kind, chunk)


def _chunks(iterable, size: int):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- Rebuilding -------------------------------------------------------------------------


def rebuild(
    kinds: Iterable[str] | None = None, progress: Callable[[str], object] | None = None
) -> dict[str, int]:
    """Rebuild the index of ``kinds`` (all by default) from the records, in bulk:
    one transaction, streamed rows, COPY on PostgreSQL. Safe to run again."""
    selected = [KINDS[k] for k in (KINDS if kinds is None else kinds)]
    started = time.monotonic()
    counts = rebuild_all(selected, everything=kinds is None, row=_row, progress=progress)
    if progress:
        progress(f"  search index rebuilt in {time.monotonic() - started:.1f} s")
    return counts
