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


class _Backend:
    def condition(
        self, terms: list[Term], *, spelling=ANY, exact=False, sound=None
    ) -> tuple[str, list]:
        """SQL over ``core_searchentry`` (not aliased): does every term match?"""
        raise NotImplementedError

    def matches(self, terms: list[Term], **mode) -> RawSQL:
        """``condition`` as an ORM filter on SearchEntry."""
        sql, params = self.condition(terms, **mode)
        return RawSQL(sql, params, output_field=BooleanField())

    def spelled(self, terms: list[Term], *, selective: bool) -> RawSQL | Q:
        """The search's filter "every term matches by spelling"; ``selective`` when
        the query is expected to match few entries (see ``search``)."""
        return self.matches(terms)

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


class SQLiteBackend(_Backend):
    vendor = "sqlite"

    # A selective query's matches looked up first, up to this many.
    FEW = 1000
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

    def spelled(self, terms, *, selective):
        """Given the FTS subquery, SQLite walks the kind's whole sort index and
        probes each entry (117 ms for an e-mail address at a million persons); for a
        query that matches few entries their ids are read first and handed over as
        a list, which it looks up by primary key (under a millisecond)."""
        if selective:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s",
                    [self._match(terms), self.FEW + 1],
                )
                ids = [row[0] for row in cursor.fetchall()]
            if len(ids) <= self.FEW:
                return Q(pk__in=ids)
        return self.matches(terms)

    def filter_records(self, rows, kind, terms, **mode):
        """SQLite has no statistics on FTS matches: given ``id IN (subquery)`` it
        reads every match's entry and record and sorts them all (262 ms for "Mül" in
        a list of a million persons). When ``MANY`` or more entries match, each row
        is probed instead (its entry by (kind, object_id), then the FTS matches, read
        once), so SQLite walks the list's sort index until the page is full. One
        counting query first, over the FTS table alone."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %s LIMIT %s)",
                [self._match(terms, **mode), self.MANY],
            )
            (count,) = cursor.fetchone()
        if count < self.MANY:
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
