"""A real Kontor on a free local port, for the scripts that measure or probe it from
outside (`make bench`, `make fuzz`): an environment of its own (a temporary var dir,
the API rate limit raised), the ``kontor`` command, and ``kontor serve`` in its own
process group that is stopped whole afterwards."""

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

KONTOR = [sys.executable, "-m", "kontor.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_env(workdir: Path, database_url: str | None) -> dict[str, str]:
    """The environment of a Kontor of its own: data under ``workdir``, the given
    database (else SQLite there), and the per-token API limit raised — thousands of
    requests a minute with one token would otherwise measure or probe HTTP 429s."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KONTOR_TESTING", "STATIC_ROOT", "MEDIA_ROOT"}
    }
    env.update(
        {
            "KONTOR_VAR_DIR": str(workdir),
            "HTTPS": "false",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "API_RATE_LIMIT_PER_MINUTE": "100000000",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def kontor(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    """Run a ``kontor`` command; its output, or RuntimeError with what it said."""
    result = subprocess.run(
        [*KONTOR, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kontor {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def server(
    env: dict[str, str], port: int, log: Path, workers: int = 2
) -> Iterator[subprocess.Popen]:
    """``kontor serve`` in its own process group; the whole group is stopped after."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*KONTOR, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(process, port, log)
        yield process
    finally:
        stop_group(process)


def wait_healthy(process: subprocess.Popen, port: int, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kontor serve exited ({process.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            healthy = conn.getresponse().status == 200
            conn.close()
            if healthy:
                return
        time.sleep(0.3)
    raise RuntimeError(f"kontor serve not healthy after {timeout:.0f} s:\n{tail(log)}")


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group (gunicorn stops gracefully), SIGKILL what remains."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(30)  # gunicorn's graceful timeout is 10 s
    for sig in (signal.SIGKILL, None):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return  # the group is empty
            time.sleep(0.2)
        if sig is not None:
            print("  the server group outlived SIGTERM: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
