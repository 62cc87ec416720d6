"""A per-token rate limit: fixed one-minute windows counted in the shared cache."""

import time

from django.conf import settings
from django.core.cache import cache


def check_rate(key: str, *, limit: int | None = None) -> int | None:
    """Count one request for ``key``; return the seconds to wait if over the limit."""
    limit = limit or settings.API_RATE_LIMIT_PER_MINUTE
    now = time.time()
    window = int(now // 60)
    cache_key = f"ratelimit:{key}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=120)
        count = 1
    if count > limit:
        return max(1, int(60 - now % 60))
    return None
