"""Rebuilding the search index in bulk: records streamed through a server-side
cursor, documents made in Python (the phonetic code has no SQL counterpart; the
token cache makes repeated names cheap), rows written with COPY on PostgreSQL and
batched inserts on SQLite, the full-text structures filled set-based at the end."""

# S608: the SQL here names only constant tables; values are query parameters.
# ruff: noqa: S608

import time
from collections.abc import Callable

from django.db import connection, transaction

from kontor.core.models import SearchEntry
from kontor.core.search.backends import GIN_INDEX, SORT_INDEX, TABLE, backend_for

BATCH = 5_000
PROGRESS_EVERY = 100_000
COLUMNS = (
    "kind",
    "object_id",
    "uuid",
    "owner_id",
    "team_id",
    "title",
    "subtitle",
    "sort_key",
    "tokens",
)


def rebuild_all(kinds, *, everything: bool, row: Callable, progress) -> dict[str, int]:
    backend = backend_for(connection)
    postgres = connection.vendor == "postgresql"
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if everything:
            backend.delete_all(cursor)
        else:
            for kind in kinds:
                backend.before_delete(cursor, "kind = %s", [kind.key])
                cursor.execute(f"DELETE FROM {TABLE} WHERE kind = %s", [kind.key])
        if postgres and everything:
            # Building a GIN index once is far faster than growing it row by row.
            cursor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
            cursor.execute(f"DROP INDEX IF EXISTS {SORT_INDEX}")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for kind in kinds:
            started = time.monotonic()
            records = kind.records().order_by("pk").iterator(chunk_size=BATCH)
            done = 0
            batch: list[tuple] = []
            for record in records:
                batch.append(row(kind, record))
                if len(batch) >= BATCH:
                    done += _write(cursor, batch, postgres)
                    batch = []
                    if progress and done % PROGRESS_EVERY == 0:
                        progress(f"  search index: {done:,} {kind.key}s")
            done += _write(cursor, batch, postgres)
            backend.after_insert(cursor, "kind = %s", [kind.key])
            counts[kind.key] = done
            if progress:
                elapsed = time.monotonic() - started
                progress(f"  search index: {done:,} {kind.key}s in {elapsed:.1f} s")
        if postgres and everything:
            cursor.execute(f"CREATE INDEX {GIN_INDEX} ON {TABLE} USING gin (vector)")
            cursor.execute(f'CREATE INDEX {SORT_INDEX} ON {TABLE} (kind, sort_key COLLATE "C", id)')
        if postgres:
            cursor.execute(f"ANALYZE {TABLE}")
    return counts


def _write(cursor, batch: list[tuple], postgres: bool) -> int:
    if not batch:
        return 0
    if postgres and hasattr(cursor.cursor, "copy"):  # psycopg 3
        with cursor.cursor.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for values in batch:
                copy.write_row(values)
    else:
        SearchEntry.objects.bulk_create(
            [SearchEntry(**dict(zip(COLUMNS, values, strict=True))) for values in batch],
            batch_size=500,
        )
    return len(batch)
