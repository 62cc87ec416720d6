"""Periodic background work: settings.PERIODIC_TASKS lists (dotted path of a
django-tasks task, interval in seconds). ``kontor worker`` runs ``loop`` in a thread
next to the task worker; ``kontor tick`` enqueues (or runs) each one once, for cron.

Core imports no domain app: tasks are named by dotted path and imported when due;
one that does not import is logged and skipped. Several workers may run at once:
the shared cache's atomic ``add`` lets only one of them enqueue a task per interval."""

import logging
import threading
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

LOOP_SECONDS = 15
CACHE_PREFIX = "kontor:periodic:"


def periodic_tasks() -> list[tuple[str, int]]:
    return [(path, int(seconds)) for path, seconds in getattr(settings, "PERIODIC_TASKS", [])]


def resolve(path: str):
    """The task at ``path``, or None (logged) if it does not import."""
    try:
        return import_string(path)
    except ImportError:
        logger.warning("Periodic task %s does not import; skipped", path, exc_info=True)
        return None


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue each periodic task whose interval has passed since it was last
    enqueued (by any process sharing the cache); the paths enqueued."""
    enqueued = []
    for path, seconds in periodic_tasks():
        task = resolve(path)
        if task is None:
            continue
        # add() sets the key only if it is absent: the first process in an interval wins.
        stamp = (now or timezone.now()).isoformat()
        if not cache.add(CACHE_PREFIX + path, stamp, timeout=max(1, seconds)):
            continue
        try:
            task.enqueue()
        except Exception:
            cache.delete(CACHE_PREFIX + path)  # let the next round try again
            logger.exception("Periodic task %s could not be enqueued", path)
            continue
        enqueued.append(path)
    return enqueued


def enqueue_all() -> list[str]:
    """Enqueue every periodic task now, whatever its interval (``kontor tick``)."""
    enqueued = []
    for path, seconds in periodic_tasks():
        task = resolve(path)
        if task is None:
            continue
        task.enqueue()
        cache.set(CACHE_PREFIX + path, timezone.now().isoformat(), timeout=max(1, seconds))
        enqueued.append(path)
    return enqueued


def run_all() -> dict[str, object]:
    """Run every periodic task here and now, one after the other (``kontor tick
    --run``); a failing one is logged and does not stop the others."""
    results: dict[str, object] = {}
    for path, _seconds in periodic_tasks():
        task = resolve(path)
        if task is None:
            continue
        try:
            results[path] = task.call()
        except Exception as exc:
            logger.exception("Periodic task %s failed", path)
            results[path] = exc
    return results


def loop(stop: threading.Event, interval: float = LOOP_SECONDS) -> None:
    """Call enqueue_due every ``interval`` seconds until ``stop`` is set; errors
    (a database gone for a moment) are logged and the loop goes on."""
    while not stop.is_set():
        close_old_connections()
        try:
            enqueue_due()
        except Exception:
            logger.exception("Periodic scheduler round failed")
        finally:
            close_old_connections()
        stop.wait(interval)


def start_thread(interval: float = LOOP_SECONDS) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=loop, args=(stop, interval), name="kontor-scheduler", daemon=True
    )
    thread.start()
    return thread, stop
