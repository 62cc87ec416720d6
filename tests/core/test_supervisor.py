"""`kontor serve --with-worker` supervises the worker: a worker that dies is reaped (no
zombie) and started again, and stopping ends it with SIGTERM, or SIGKILL if it does
not listen. Real processes: a tiny stand-in for the worker."""

import os
import signal
import sys
import time

from kontor.core.supervisor import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def gone(pid: int) -> bool:
    """Reaped: no process and no zombie left under this id."""
    return not os.path.exists(f"/proc/{pid}")


def test_a_killed_worker_is_reaped_and_restarted_then_stopped():
    supervisor = Supervisor(SLEEPER, min_backoff=0.1, poll=0.05, stop_timeout=5)
    supervisor.start()
    try:
        first = supervisor.process.pid
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: supervisor.process.pid != first)
        assert supervisor.restarts == 1
        assert gone(first)
        second = supervisor.process.pid
        assert supervisor.process.poll() is None
    finally:
        code = supervisor.stop()
    assert code == -signal.SIGTERM
    assert gone(second)
    assert supervisor.restarts == 1  # stopping does not start it again


def test_a_worker_that_keeps_dying_is_restarted_with_a_growing_back_off():
    dies = [sys.executable, "-c", "raise SystemExit(3)"]
    supervisor = Supervisor(dies, min_backoff=0.05, max_backoff=0.4, poll=0.02)
    supervisor.start()
    try:
        assert wait_for(lambda: supervisor.restarts >= 4)
    finally:
        supervisor.stop()
    # Back-offs 0.05, 0.1, 0.2, 0.4, 0.4 …: far fewer restarts than a tight loop would make.
    assert supervisor.restarts < 20


def test_a_worker_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path):
    ready = tmp_path / "ready"
    stubborn = [
        sys.executable,
        "-c",
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)",
        str(ready),
    ]
    supervisor = Supervisor(stubborn, stop_timeout=0.5, poll=0.05)
    supervisor.start()
    assert wait_for(ready.exists)  # SIGTERM is ignored from now on
    pid = supervisor.process.pid
    assert supervisor.stop() == -signal.SIGKILL
    assert gone(pid)
