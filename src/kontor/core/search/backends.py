"""The vendor-specific SQL of the search index: FTS5 on SQLite, tsvector + GIN on
PostgreSQL. Both answer the same question for a list of terms, so the search gives
the same results on either database: does every term match — by a spelling (as a
prefix or a whole word), anywhere or in the title only, or also by its phonetic
code? And they keep their full-text structure in step with the ``core_searchentry``
rows.

Terms come from ``tokens.parse_query`` and hold only ``[0-9a-z]`` and the phonetic
marker (the title marker is added here), so the query syntax built here cannot be
broken by user input.
"""

# S608/S611: the SQL here names only this module's constant tables; every value from
# a user is a query parameter, and the FTS/tsquery text is built from sanitised terms.
# ruff: noqa: S608, S611

import dataclasses
import json

from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate, Lower

from kontor.core.search.tokens import TITLE, Term

TABLE = "core_searchentry"
FTS_TABLE = "core_searchentry_fts"
GIN_INDEX = "core_searchentry_vector_gin"
SORT_INDEX = "core_searchentry_sort"

# The FTS5 table (SQLite) and the generated tsvector column with its GIN index
# (PostgreSQL) are created by migration core/0006_searchentry.

ANY, IN_TITLE = "any", "title"


def _options(term: Term, *, spelling: str, exact: bool, sound: str | None):
    """The tokens one term may match, each as (token, as a prefix?): its spellings,
    anywhere or only in the title (``spelling``), as prefixes or whole words
    (``exact``), and its phonetic code, anywhere or in the title (``sound``; None
    for spelling only)."""
    mark = TITLE if spelling == IN_TITLE else ""
    options = [(mark + p, not exact) for p in term.prefixes]
    if sound and term.phonetic:
        code = (TITLE if sound == IN_TITLE else "") + term.phonetic
        options.append((code, term.phonetic_prefix))
    return options


@dataclasses.dataclass(frozen=True)
class Lookup:
    """A search's filter, and whether it matches few entries (see ``lookup``)."""

    condition: RawSQL | Q
    few: bool


class _Backend:
    # A filter matching fewer entries is read from the full-text index and sorted.
    FEW_MATCHES = 1000

    def condition(
        self, terms: list[Term], *, spelling=ANY, exact=False, sound=None
    ) -> tuple[str, list]:
        """SQL over ``core_searchentry`` (not aliased): does every term match?"""
        raise NotImplementedError

    def matches(self, terms: list[Term], **mode) -> RawSQL:
        """``condition`` as an ORM filter on SearchEntry."""
        sql, params = self.condition(terms, **mode)
        return RawSQL(sql, params, output_field=BooleanField())

    def lookup(self, terms: list[Term], *, ask: bool, **mode) -> "Lookup":
        """The filter "every term matches" (by spelling, or as ``mode`` says), and
        whether it matches few entries, to be read from the full-text index and
        sorted rather than found by walking the sort index. ``ask``: whether it is
        worth finding out (not for one or two letters, which match many)."""
        few = ask and self.count_at_most(terms, self.FEW_MATCHES, **mode) < self.FEW_MATCHES
        return Lookup(self.matches(terms, **mode), few)

    def object_ids(self, kind: str, terms: list[Term], **mode) -> RawSQL:
        """The ids of the records of ``kind`` that match, as a subquery for
        ``pk__in``. Raw, so that the condition's table name is not aliased away."""
        sql, params = self.condition(terms, **mode)
        return RawSQL(f"SELECT object_id FROM {TABLE} WHERE kind = %s AND {sql}", [kind, *params])

    def filter_records(self, rows: QuerySet, kind: str, terms: list[Term], **mode) -> QuerySet:
        """``rows`` (records of ``kind``) narrowed to those that match, in their own
        order: the database picks the plan (a GIN lookup for a rare word, a walk along
        the list's sort index probing the (kind, object_id) index for a common one)."""
        return rows.filter(pk__in=self.object_ids(kind, terms, **mode))

    def count_at_most(self, terms: list[Term], cap: int, **mode) -> int:
        """How many entries (of any kind) match, up to ``cap``, from the full-text
        index alone: counted, or estimated where counting costs more."""
        raise NotImplementedError

    def text_driven(self, entries: QuerySet, kind: str) -> QuerySet:
        """``entries`` of ``kind``, to be read from the full-text matches (few: see
        ``count_at_most``) rather than along an index on the kind."""
        return entries.filter(kind=kind)

    def text_sort(self):
        """The alphabetical order as an expression no index provides: the matches
        are read from the full-text index and sorted, not found by walking the sort
        index (see ``search``)."""
        return Collate(Lower(F("sort_key")), "C")


class SQLiteBackend(_Backend):
    vendor = "sqlite"

    # A list's filter matching this many records walks the list's order instead.
    MANY = 3000

    def _match(self, terms, *, spelling=ANY, exact=False, sound=None) -> str:
        groups = []
        for term in terms:
            options = _options(term, spelling=spelling, exact=exact, sound=sound)
            groups.append(
                "(" + " OR ".join(f'"{t}"' + ("*" if p else "") for t, p in options) + ")"
            )
        return " AND ".join(groups)

    def condition(self, terms, *, spelling=ANY, exact=False, sound=None):
        query = self._match(terms, spelling=spelling, exact=exact, sound=sound)
        sql = f'"{TABLE}"."id" IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)'
        return sql, [query]

    def lookup(self, terms, *, ask, **mode):
        """Few matches are read from the FTS table first and handed over as a list
        of ids, which SQLite looks up by primary key. Given the FTS subquery, it
        walks the kind's sort index and probes each entry (117 ms for an e-mail
        address at a million persons), or, when reading from the FTS table is forced,
        reads every entry the user may see through the owner and team indexes."""
        if ask:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s",
                    [self._match(terms, **mode), self.FEW_MATCHES + 1],
                )
                ids = [row[0] for row in cursor.fetchall()]
            if len(ids) <= self.FEW_MATCHES:
                return Lookup(Q(pk__in=ids), few=True)
        return Lookup(self.matches(terms, **mode), few=False)

    def filter_records(self, rows, kind, terms, **mode):
        """SQLite has no statistics on FTS matches: given ``id IN (subquery)`` it
        reads every match's entry and record and sorts them all (262 ms for "Mül" in
        a list of a million persons). When ``MANY`` or more entries match, each row
        is probed instead (its entry by (kind, object_id), then the FTS matches, read
        once), so SQLite walks the list's sort index until the page is full. One
        counting query first, over the FTS table alone."""
        if self.count_at_most(terms, self.MANY, **mode) < self.MANY:
            return super().filter_records(rows, kind, terms, **mode)
        sql, params = self.condition(terms, **mode)
        meta = rows.model._meta
        probe = RawSQL(
            f"EXISTS (SELECT 1 FROM {TABLE} WHERE {TABLE}.kind = %s AND "
            f'{TABLE}.object_id = "{meta.db_table}"."{meta.pk.column}" AND {sql})',
            [kind, *params],
            output_field=BooleanField(),
        )
        return rows.filter(probe)

    def sort(self, *, selective: bool = False):
        return F("sort_key")  # binary order: the keys are ASCII

    def count_at_most(self, terms, cap, **mode):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %s LIMIT %s)",
                [self._match(terms, **mode), cap],
            )
            return cursor.fetchone()[0]

    def text_driven(self, entries, kind):
        """The unary ``+`` keeps SQLite off the kind's indexes: given ``kind = ?``
        it scans every entry of the kind, probing the matches (90 ms for the Müllers
        among 100,000 persons), instead of looking the matches up by rowid (9 ms)."""
        driven = RawSQL(f'+"{TABLE}"."kind" = %s', [kind], output_field=BooleanField())
        return entries.filter(driven)

    def text_sort(self):
        return Lower(F("sort_key"))  # a no-op on the folded keys, and no index has it

    def after_insert(self, cursor, where: str, params: list) -> None:
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, tokens) SELECT id, tokens FROM {TABLE} WHERE {where}",
            params,
        )

    def before_delete(self, cursor, where: str, params: list) -> None:
        cursor.execute(
            f"DELETE FROM {FTS_TABLE} WHERE rowid IN (SELECT id FROM {TABLE} WHERE {where})",
            params,
        )

    def delete_all(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {FTS_TABLE}")
        cursor.execute(f"DELETE FROM {TABLE}")


class PostgresBackend(_Backend):
    vendor = "postgresql"

    # Matches a search reads from the GIN index and sorts, by the planner's estimate
    # (see count_at_most).
    FEW_MATCHES = 10_000

    def condition(self, terms, *, spelling=ANY, exact=False, sound=None):
        groups = []
        for term in terms:
            options = _options(term, spelling=spelling, exact=exact, sound=sound)
            groups.append(
                "(" + " | ".join(f"'{t}'" + (":*" if p else "") for t, p in options) + ")"
            )
        query = " & ".join(groups)
        sql = f'"{TABLE}"."vector" @@ to_tsquery(\'simple\'::regconfig, %s)'
        return sql, [query]

    def sort(self, *, selective: bool = False):
        """The database's collation may ignore spaces; "C" sorts like SQLite. For a
        selective query (a phone or customer number, an e-mail address) the planner
        overestimates how many rows match a digit prefix and walks the sort index,
        filtering row by row through most of the table; ``Lower`` (a no-op on the
        folded keys) keeps it on the GIN index, then sorts the few hits."""
        key = Lower(F("sort_key")) if selective else F("sort_key")
        return Collate(key, "C")

    def count_at_most(self, terms, cap, **mode):
        """The planner's estimate, not a count: counting reads the GIN index's whole
        bitmap for the words (30 ms for "Meyer" at a million entries), planning takes
        a fraction of a millisecond. Its statistics know the common words and prefixes
        (estimated within a factor of two at a million entries); a rare word or a
        typo is estimated at a few thousand, where the full-text index is right."""
        sql, params = self.condition(terms, **mode)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {TABLE} WHERE {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return min(cap, int(plan[0]["Plan"]["Plan Rows"]))

    def after_insert(self, cursor, where: str, params: list) -> None:
        """The generated column and its GIN index follow by themselves."""

    def before_delete(self, cursor, where: str, params: list) -> None:
        """Likewise."""

    def delete_all(self, cursor) -> None:
        cursor.execute(f"TRUNCATE {TABLE}")


def backend_for(connection):
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SQLiteBackend()
    raise NotImplementedError(f"search does not support {connection.vendor}")
