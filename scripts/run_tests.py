"""Run the pytest suite on one database; used by `make test`.

PostgreSQL: TEST_DATABASE_URL if set, else a throwaway cluster. Without PostgreSQL
binaries the pass is skipped with a message, unless CI=true, where it is required.
Under CI=true a skipped test fails the pass too. pytest's own exit code is returned,
so a failure or "no tests ran" (5) fails `make test`.
"""

import argparse
import os
import subprocess
import sys

import pytest as _pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgcluster import find_bindir, throwaway_cluster

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NO_TESTS = 5


def pytest(label: str, database_url: str | None, extra: list[str]) -> int:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    args = [sys.executable, "-m", "pytest"]
    if CI:
        # Nothing may be skipped under CI; the plugin turns a skip into a failure.
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [os.path.dirname(os.path.abspath(__file__)), env.get("PYTHONPATH")])
        )
        args += ["-p", "run_tests", "-rfEs"]
    code = subprocess.call([*args, *extra], env=env)
    if code == NO_TESTS:
        print(f"FAILED the {label} pass: pytest collected no tests.")
    elif code != 0:
        print(f"FAILED the {label} pass (pytest exit code {code}).")
    return code


# Loaded into pytest with `-p run_tests` under CI=true: a skipped test fails the run.
@_pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.ensure_newline()
        reporter.write_line(f"FAILED: {skipped} test(s) skipped, and CI=true skips nothing.")
        session.exitstatus = 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    args, extra = parser.parse_known_args()
    if args.database == "sqlite":
        return pytest("SQLite", None, extra)
    if os.environ.get("TEST_DATABASE_URL"):
        return pytest("PostgreSQL", os.environ["TEST_DATABASE_URL"], extra)
    bindir = find_bindir()
    if bindir is None:
        if CI:
            print("FAILED: PostgreSQL binaries are missing, and CI=true requires that pass.")
            return 1
        print("SKIPPED the PostgreSQL pass: no PostgreSQL binaries (install postgresql).")
        return 0
    with throwaway_cluster() as url:
        print(f"Throwaway PostgreSQL cluster ({bindir}) at {url}")
        return pytest("PostgreSQL", url, extra)


if __name__ == "__main__":
    sys.exit(main())
