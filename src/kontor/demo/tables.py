"""Small helpers the demo generators share (data.py and each app's generator): random
uuids as the database stores them, the highest id of a table, fresh planner statistics.

Here, not in data.py, which imports the generators: a generator importing data.py back
would make a cycle (``make lint`` forbids them)."""

import os
import re
from collections.abc import Sequence

from django.db import connection, models

# Characters COPY's text format would have to escape; the generators never make them.
NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def uuids(k: int) -> list[str]:
    """k random version-4 uuids as 32 hex digits: what Django stores on SQLite, and
    what PostgreSQL's uuid type reads."""
    raw = os.urandom(16 * k).hex()
    out = []
    for i in range(0, 32 * k, 32):
        h = raw[i : i + 32]
        out.append(f"{h[:12]}4{h[13:16]}{'89ab'[int(h[16], 16) & 3]}{h[17:]}")
    return out


def max_id(model) -> int:
    return model.objects.aggregate(m=models.Max("pk"))["m"] or 0


def analyze(models_: Sequence[type[models.Model]]) -> None:
    """Fresh planner statistics, so the first queries after a big load use the indexes."""
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
