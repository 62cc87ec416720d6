"""Run the pytest suite on one database; used by `make test`.

PostgreSQL: TEST_DATABASE_URL if set, else a throwaway cluster. Without PostgreSQL
binaries the pass is skipped with a message, unless CI=true, where it is required.
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgcluster import find_bindir, throwaway_cluster

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest(database_url: str | None, extra: list[str]) -> int:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    # Under CI nothing may be skipped: conftest turns missing Chromium into a failure.
    return subprocess.call([sys.executable, "-m", "pytest", *extra], env=env)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    args, extra = parser.parse_known_args()
    if args.database == "sqlite":
        return pytest(None, extra)
    if os.environ.get("TEST_DATABASE_URL"):
        return pytest(os.environ["TEST_DATABASE_URL"], extra)
    if find_bindir() is None:
        if CI:
            print("PostgreSQL binaries are missing, and CI=true requires the PostgreSQL pass.")
            return 1
        print("SKIPPED the PostgreSQL pass: no PostgreSQL binaries (install postgresql).")
        return 0
    with throwaway_cluster() as url:
        return pytest(url, extra)


if __name__ == "__main__":
    sys.exit(main())
