import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Inlined (a migration must not change when the code does); see core.search.backends.
SQLITE_SCHEMA = [
    # A plain FTS5 table keyed by the entry id, kept in step by core.search (no
    # triggers: Django's SQLite schema editor drops them when it remakes a table).
    "CREATE VIRTUAL TABLE core_searchentry_fts USING fts5("
    "tokens, tokenize='unicode61 remove_diacritics 0', prefix='2 3', detail=none)",
    "CREATE INDEX core_searchentry_sort ON core_searchentry (kind, sort_key, id)",
]
SQLITE_SCHEMA_DROP = [
    "DROP INDEX IF EXISTS core_searchentry_sort",
    "DROP TABLE IF EXISTS core_searchentry_fts",
]
POSTGRES_SCHEMA = [
    "ALTER TABLE core_searchentry ADD COLUMN vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    "CREATE INDEX core_searchentry_vector_gin ON core_searchentry USING gin (vector)",
    # The hits of a kind in order, so that a common word stops after the first page:
    # "C" sorts like SQLite's binary order, whatever the database's collation.
    'CREATE INDEX core_searchentry_sort ON core_searchentry (kind, sort_key COLLATE "C", id)',
]
POSTGRES_SCHEMA_DROP = [
    "DROP INDEX IF EXISTS core_searchentry_sort",
    "ALTER TABLE core_searchentry DROP COLUMN IF EXISTS vector",
]


def full_text_forwards(apps, schema_editor):
    """The full-text structure over ``tokens``: vendor-specific, outside the ORM."""
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_SCHEMA, "postgresql": POSTGRES_SCHEMA}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def full_text_backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_SCHEMA_DROP, "postgresql": POSTGRES_SCHEMA_DROP}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_saved_views_and_bulk_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=16)),
                ("object_id", models.BigIntegerField()),
                ("uuid", models.UUIDField()),
                ("title", models.CharField(max_length=300)),
                ("subtitle", models.CharField(blank=True, max_length=300)),
                ("sort_key", models.CharField(max_length=300)),
                ("tokens", models.TextField()),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="core.team",
                    ),
                ),
            ],
            options={
                "ordering": ["kind", "sort_key", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "object_id"), name="searchentry_kind_object"
                    )
                ],
            },
        ),
        migrations.RunPython(full_text_forwards, full_text_backwards, elidable=False),
    ]
