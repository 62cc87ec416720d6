"""Keep a child process alive: ``kontor serve --with-worker`` runs the background
worker under a ``Supervisor``. A worker that exits is reaped at once (no zombie) and
started again after a back-off that doubles while it keeps dying quickly; ``stop``
sends SIGTERM (the worker finishes its chunk, see ``kontor.core.jobs``), waits, and
kills it only if it does not end in time."""

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence

logger = logging.getLogger(__name__)


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 60.0,
        healthy_after: float = 60.0,
        poll: float = 0.5,
        stop_timeout: float = 30.0,
    ):
        self.command = list(command)
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        # A child that ran this long was healthy: its next death starts from min_backoff.
        self.healthy_after = healthy_after
        self.poll, self.stop_timeout = poll, stop_timeout
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(target=self._watch, name="kontor-supervisor", daemon=True)
        self._thread.start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self.process = subprocess.Popen(self.command)
            self._started = time.monotonic()
        logger.info("Worker started (pid %s)", self.process.pid)

    def _watch(self) -> None:
        backoff = self.min_backoff
        while not self._stopping.is_set():
            process = self.process
            code = process.poll() if process is not None else None  # poll() reaps it
            if code is None:
                self._stopping.wait(self.poll)
                continue
            if time.monotonic() - self._started >= self.healthy_after:
                backoff = self.min_backoff
            logger.warning(
                "Worker (pid %s) exited with %s; restarting in %.1f s", process.pid, code, backoff
            )
            if self._stopping.wait(backoff):
                return
            self.restarts += 1
            self._spawn()
            backoff = min(self.max_backoff, backoff * 2)

    def request_stop(self) -> None:
        """No more restarts from now on (safe in a signal handler); ``stop`` ends it."""
        self._stopping.set()

    def stop(self) -> int | None:
        """Stop supervising and end the child: SIGTERM, then SIGKILL after
        ``stop_timeout``. Returns its exit code."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if self._thread is not None:
            self._thread.join()
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                logger.warning("Worker (pid %s) did not stop in time; killed", process.pid)
                process.kill()
        return process.wait()
