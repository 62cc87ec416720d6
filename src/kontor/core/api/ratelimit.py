"""A per-token rate limit: fixed one-minute windows counted in the cache.

The limit is checked on every API request, reads included, so it must not write to the
database (on SQLite every write waits for the one writer). It counts in the
``ratelimit`` cache (settings ``CACHES``): local memory of each process by default —
then every web process counts on its own and N processes together let up to N × the
limit through — or the shared cache when ``CACHE_BACKEND`` is set (Redis, memcached),
which counts exactly across processes. ``add`` then ``incr`` is atomic in both.
"""

import time

from django.conf import settings
from django.core.cache import caches

CACHE_ALIAS = "ratelimit"
WINDOW_SECONDS = 60


def check_rate(key: str, *, limit: int | None = None) -> int | None:
    """Count one request for ``key``; return the seconds to wait if over the limit."""
    limit = limit or settings.API_RATE_LIMIT_PER_MINUTE
    cache = caches[CACHE_ALIAS]
    now = time.time()
    window_key = f"rate:{key}:{int(now // WINDOW_SECONDS)}"
    # The key expires with its window (plus a margin for clock skew between processes),
    # so old windows need no clean-up.
    if cache.add(window_key, 1, timeout=2 * WINDOW_SECONDS):
        count = 1
    else:
        try:
            count = cache.incr(window_key)
        except ValueError:  # expired between add and incr: this request opens it again
            cache.add(window_key, 1, timeout=2 * WINDOW_SECONDS)
            count = 1
    if count > limit:
        return max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS))
    return None
