"""Rebuilding the search index in bulk: records streamed through a server-side
cursor as plain rows and made into light model instances, documents made in Python
by the models' own ``search_document()`` (the phonetic code has no SQL counterpart;
the token cache makes repeated names cheap), rows written with COPY on PostgreSQL
and one ``executemany`` per batch on SQLite, the full-text structures filled
set-based at the end."""

# S608: the SQL here names only constant tables; values are query parameters.
# ruff: noqa: S608

import time
from collections.abc import Callable, Iterator

from django.db import connection, transaction
from django.db.models.base import ModelState

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
            records = light_records(kind)
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


def light_records(kind) -> Iterator:
    """The records of ``kind`` in primary-key order with what their documents read:
    ``kind.fields`` (or every concrete field), of each relation in ``kind.related``
    the ``related_fields`` (or all its fields), cached as ``select_related`` does —
    fetched as plain rows and made into instances without ``Model.__init__``, which
    took a third of the rebuild. ``search_document()`` and the model's properties
    work on them as on any loaded record (other fields are deferred); they are read,
    never saved."""
    model = kind.model_class
    if kind.fields:
        names = (model._meta.pk.name, "uuid", "owner", "team", *kind.fields)
        own = list(dict.fromkeys(model._meta.get_field(n).attname for n in names))
    else:
        own = [f.attname for f in model._meta.concrete_fields]
    relations = []  # (name, related model, its pk attname, loaded attnames)
    for name in kind.related:
        field = model._meta.get_field(name)
        related = field.related_model
        prefix = f"{name}__"
        names = [p.removeprefix(prefix) for p in kind.related_fields if p.startswith(prefix)]
        names = names or [f.attname for f in related._meta.concrete_fields]
        relations.append((name, field.attname, related, related._meta.pk.attname, names))
    columns = own + [f"{r[0]}__{n}" for r in relations for n in r[4]]
    rows = model._default_manager.order_by("pk").values_list(*columns)
    alias = rows.db
    size = len(own)

    def make(cls, names, values):
        instance = cls.__new__(cls)
        instance.__dict__.update(zip(names, values, strict=True))
        instance._state = ModelState()
        instance._state.adding = False
        instance._state.db = alias
        return instance

    for row in rows.iterator(chunk_size=BATCH):
        record = make(model, own, row[:size])
        at = size
        for name, fk_attname, related, pk_attname, names in relations:
            values = row[at : at + len(names)]
            at += len(names)
            key = record.__dict__[fk_attname]
            target = None
            if key is not None:
                target = make(related, names, values)
                target.__dict__[pk_attname] = key
            record._state.fields_cache[name] = target
        yield record


def _write(cursor, batch: list[tuple], postgres: bool) -> int:
    if not batch:
        return 0
    if postgres and hasattr(cursor.cursor, "copy"):  # psycopg 3
        with cursor.cursor.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for values in batch:
                copy.write_row(values)
    else:
        # One statement for the batch: bulk_create spent more time building model
        # instances and SQL than the database took to insert the rows.
        uuid_field = SearchEntry._meta.get_field("uuid")
        at = COLUMNS.index("uuid")
        rows = [
            (*v[:at], uuid_field.get_db_prep_value(v[at], connection), *v[at + 1 :]) for v in batch
        ]
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders})", rows
        )
    return len(batch)
