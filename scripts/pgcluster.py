"""A throwaway PostgreSQL cluster for tests and benchmarks.

The machine has PostgreSQL's binaries but no running server. This makes a cluster in a
temporary directory (owned by the ``postgres`` user when run as root, since the server
refuses to run as root), trusts local connections on 127.0.0.1, picks a free port, and
removes everything afterwards.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator


def find_bindir() -> str | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def throwaway_cluster(*, settings: dict[str, str] | None = None) -> Iterator[str]:
    """Start a cluster; yield a DATABASE_URL for its ``postgres`` superuser."""
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL binaries (initdb) not found")
    as_root = os.geteuid() == 0
    workdir = tempfile.mkdtemp(prefix="kontor-pg-")
    datadir = os.path.join(workdir, "data")
    prefix: list[str] = []
    if as_root:
        pg = pwd.getpwnam("postgres")
        os.chown(workdir, pg.pw_uid, pg.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    options = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": workdir,
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        **(settings or {}),
    }
    opt_string = " ".join(f"-c {k}={v}" for k, v in options.items())
    try:
        subprocess.run(
            [
                *prefix,
                f"{bindir}/initdb",
                "-D",
                datadir,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [
                *prefix,
                f"{bindir}/pg_ctl",
                "-D",
                datadir,
                "-o",
                opt_string,
                "-l",
                os.path.join(workdir, "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        yield f"postgres://postgres@127.0.0.1:{port}/kontor"
    finally:
        if os.path.exists(os.path.join(datadir, "postmaster.pid")):
            subprocess.run(
                [*prefix, f"{bindir}/pg_ctl", "-D", datadir, "-m", "fast", "-w", "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
            )
        shutil.rmtree(workdir, ignore_errors=True)
