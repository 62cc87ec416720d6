"""The vendor-specific SQL of the search index: FTS5 on SQLite, tsvector + GIN on
PostgreSQL. Both answer the same question for a list of terms, so the search gives
the same results on either database: does every term match, by a spelling prefix
(``phonetic=False``) or also by its phonetic code (``phonetic=True``)? And they keep
their full-text structure in step with the ``core_searchentry`` rows.

Terms come from ``tokens.parse_query`` and hold only ``[0-9a-z]`` and the phonetic
marker, so the query syntax built here cannot be broken by user input.
"""

# S608/S611: the SQL here names only this module's constant tables; every value from
# a user is a query parameter, and the FTS/tsquery text is built from sanitised terms.
# ruff: noqa: S608, S611

from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate, Lower

from kontor.core.search.tokens import Term

TABLE = "core_searchentry"
FTS_TABLE = "core_searchentry_fts"
GIN_INDEX = "core_searchentry_vector_gin"
SORT_INDEX = "core_searchentry_sort"

# The FTS5 table (SQLite) and the generated tsvector column with its GIN index
# (PostgreSQL) are created by migration core/0006_searchentry.


class SQLiteBackend:
    vendor = "sqlite"

    def _expression(self, terms: list[Term], *, phonetic: bool, prefix: bool) -> str:
        star = "*" if prefix else ""
        groups = []
        for term in terms:
            options = [f'"{p}"{star}' for p in term.prefixes]
            if phonetic and term.phonetic:
                options.append(f'"{term.phonetic}"' + ("*" if term.phonetic_prefix else ""))
            groups.append("(" + " OR ".join(options) + ")")
        return " AND ".join(groups)

    def matches(self, terms: list[Term], *, phonetic: bool, negate: bool = False) -> RawSQL:
        query = self._expression(terms, phonetic=phonetic, prefix=True)
        op = "NOT IN" if negate else "IN"
        sql = f'"{TABLE}"."id" {op} (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)'
        return RawSQL(sql, [query], output_field=BooleanField())

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


class PostgresBackend:
    vendor = "postgresql"

    def _expression(self, terms: list[Term], *, phonetic: bool, prefix: bool) -> str:
        star = ":*" if prefix else ""
        groups = []
        for term in terms:
            options = [f"'{p}'{star}" for p in term.prefixes]
            if phonetic and term.phonetic:
                options.append(f"'{term.phonetic}'" + (":*" if term.phonetic_prefix else ""))
            groups.append("(" + " | ".join(options) + ")")
        return " & ".join(groups)

    def matches(self, terms: list[Term], *, phonetic: bool, negate: bool = False) -> RawSQL:
        query = self._expression(terms, phonetic=phonetic, prefix=True)
        sql = f'"{TABLE}"."vector" @@ to_tsquery(\'simple\'::regconfig, %s)'
        return RawSQL(f"NOT ({sql})" if negate else sql, [query], output_field=BooleanField())

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
