"""A per-token rate limit: fixed one-minute windows counted in the shared cache."""

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_TIMEOUT = 120  # seconds a window's counter is kept; longer than the window


def check_rate(key: str, *, limit: int | None = None) -> int | None:
    """Count one request for ``key``; return the seconds to wait if over the limit."""
    limit = limit or settings.API_RATE_LIMIT_PER_MINUTE
    now = time.time()
    cache_key = f"ratelimit:{key}:{int(now // 60)}"
    # Most requests find the window's counter: increment first, make it only if
    # missing (with the database cache each cache call costs queries).
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the first request of this window (or a parallel one made it)
        made = cache.add(cache_key, 1, timeout=WINDOW_TIMEOUT)
        count = 1 if made else cache.incr(cache_key)
    if count > limit:
        return max(1, int(60 - now % 60))
    return None
