"""Fuzz the API with schemathesis against a real Kontor; used by `make fuzz`.

For each database (SQLite, and PostgreSQL when there is one) this migrates a fresh
database in a temporary var dir, loads a small demo, makes an API token for the demo
administrator (read and write) and one for the demo read-only user (read), starts
``kontor serve`` on a free local port with the per-token rate limit raised, and runs

    schemathesis run --checks all http://127.0.0.1:PORT/api/v1/openapi.json

once with each token, bounded by ``--max-examples`` per operation and ``--max-time``
per run. Any server error or non-conformance is a failure: the exit code is non-zero,
and each run's reports (JUnit XML and an NDJSON event log) are kept in var/fuzz/.

PostgreSQL: ``FUZZ_DATABASE_URL`` names a database that is dropped and made anew (its
name must contain "fuzz"); else a throwaway cluster when PostgreSQL's binaries are
installed; else the PostgreSQL pass is skipped with a message (under CI=true: fails).

    .venv/bin/python scripts/fuzz.py [--databases sqlite,postgres] [--max-examples N]
                                     [--max-time SECONDS] [--seed N] [-- schemathesis args]
"""

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kontor_server import free_port, isolated_env, kontor, server, tail
from pgcluster import find_bindir, throwaway_cluster

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The demo's logins (kontor.demo.data.DEMO_USERS): who the two tokens belong to.
TOKENS = {"admin": ("admin", "read_write"), "readonly": ("readonly", "read")}
REVOKE = "/api/v1/tokens/{prefix}/revoke"


def fuzz_database(label: str, database_url: str | None, args, extra: list[str]) -> list[str]:
    """One database: set up Kontor, fuzz with each token; the failed runs' names."""
    workdir = Path(tempfile.mkdtemp(prefix="kontor-fuzz-"))
    env = isolated_env(workdir, database_url)
    failed = []
    try:
        print(f"== {label}: migrate, demo (small), tokens", flush=True)
        kontor(env, "migrate", "--no-input")
        kontor(env, "demo", "--size", "small", "--persons", str(args.persons))
        tokens = {
            name: kontor(env, "token", user, "--scope", scope, "--name", "fuzz").split()[-1]
            for name, (user, scope) in TOKENS.items()
        }
        port = free_port()
        with server(env, port, workdir / "server.log"):
            for name, token in tokens.items():
                run = f"{label.lower()}-{name}"
                # Revoking comes last and alone: the fuzzer finds its own token's prefix
                # in GET /tokens, revokes it, and every later request is a 401.
                if not schemathesis(run, port, token, args, [*extra, "--exclude-path", REVOKE]):
                    failed.append(run)
                if not schemathesis(
                    f"{run}-revoke",
                    port,
                    token,
                    args,
                    [*extra, "--include-path", REVOKE, "--max-time", "30"],
                ):
                    failed.append(f"{run}-revoke")
        errors = [
            line for line in tail(workdir / "server.log", 400).splitlines() if "Error" in line
        ]
        if errors:
            print(f"== {label}: the server log names errors:\n" + "\n".join(errors[-20:]))
    except Exception as exc:
        print(f"== {label}: FAILED to set up: {exc}\n{tail(workdir / 'server.log')}")
        failed.append(f"{label.lower()}-setup")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return failed


def schemathesis(run: str, port: int, token: str, args, extra: list[str]) -> bool:
    reports = ROOT / "var" / "fuzz" / run
    shutil.rmtree(reports, ignore_errors=True)
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(ROOT / "scripts" / "schemathesis.toml"),
        "run",
        f"http://127.0.0.1:{port}/api/v1/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        # Only the token: a made-up bearer token or session cookie per case would be
        # refused with 401 before the operation runs (`ignored_auth` still tries none).
        "--generation-with-security-parameters",
        "false",
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
        "--workers",
        str(args.workers),
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(reports),
        "--no-color",
        "--output-truncate",
        "false",
        *(["--seed", str(args.seed)] if args.seed is not None else []),
        *extra,
    ]
    print(f"== {run}: schemathesis (reports in {reports.relative_to(ROOT)})", flush=True)
    code = subprocess.call(command, cwd=ROOT)
    print(f"== {run}: {'passed' if code == 0 else f'FAILED (exit code {code})'}", flush=True)
    return code == 0


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    """A fresh PostgreSQL database for one run; None when there is none to have."""
    import psycopg

    given = os.environ.get("FUZZ_DATABASE_URL")
    if given:
        parts = urlsplit(given)
        name = parts.path.lstrip("/")
        if "fuzz" not in name:
            raise SystemExit(f"FUZZ_DATABASE_URL: the database {name!r} is dropped; name it *fuzz*")
        yield recreated(psycopg, urlunsplit(parts._replace(path="/postgres")), name, given)
        return
    if find_bindir() is None:
        yield None
        return
    with throwaway_cluster() as url:
        yield recreated(psycopg, url.rsplit("/", 1)[0] + "/postgres", "kontor", url)


def recreated(psycopg, admin_url: str, name: str, url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--max-examples", type=int, default=30, help="per operation and phase")
    parser.add_argument("--max-time", type=int, default=600, help="seconds per run")
    parser.add_argument("--workers", default="2", help="schemathesis workers")
    parser.add_argument("--persons", type=int, default=300, help="demo persons")
    parser.add_argument("--seed", type=int, default=None)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    databases = {d.strip() for d in args.databases.split(",") if d.strip()}
    failed: list[str] = []
    if "sqlite" in databases:
        failed += fuzz_database("SQLite", None, args, extra)
    if "postgres" in databases:
        with postgres() as url:
            if url is None:
                print("== PostgreSQL: SKIPPED (no PostgreSQL binaries; set FUZZ_DATABASE_URL)")
                if CI:
                    failed.append("postgresql-missing")
            else:
                failed += fuzz_database("PostgreSQL", url, args, extra)
    print("== fuzz: " + (f"FAILED: {', '.join(failed)}" if failed else "no failures"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
