"""A per-token rate limit: fixed one-minute windows counted in the database.

One atomic upsert per request (``INSERT … ON CONFLICT … DO UPDATE … RETURNING``, which
SQLite ≥ 3.35 and PostgreSQL both speak), so parallel web processes never lose a count.
"""

import time

from django.conf import settings
from django.db import connection

from kontor.core.models import RateCounter

_TABLE = RateCounter._meta.db_table
_UPSERT = (
    f"INSERT INTO {_TABLE} (key, minute, count) VALUES (%s, %s, 1) "  # noqa: S608 - no user input
    f"ON CONFLICT (key, minute) DO UPDATE SET count = {_TABLE}.count + 1 RETURNING count"
)


def check_rate(key: str, *, limit: int | None = None) -> int | None:
    """Count one request for ``key``; return the seconds to wait if over the limit."""
    limit = limit or settings.API_RATE_LIMIT_PER_MINUTE
    now = time.time()
    minute = int(now // 60)
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [key, minute])
        (count,) = cursor.fetchone()
    if count == 1:
        # The first request of a minute clears this key's older counters.
        RateCounter.objects.filter(key=key, minute__lt=minute).delete()
    if count > limit:
        return max(1, int(60 - now % 60))
    return None
