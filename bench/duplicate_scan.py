"""Time the background duplicate scan on PostgreSQL with fsync on (as in production).

    python bench/duplicate_scan.py --data demo --size small|medium
    python bench/duplicate_scan.py --data crowded --persons 2000 --group 60 --scans 2

Makes a throwaway cluster (scripts/pgcluster.py) with ``fsync``, ``synchronous_commit``
and ``full_page_writes`` on, migrates, loads either ``kontor demo --size SIZE`` or a
"crowded" set (``--persons`` persons in groups of ``--group`` sharing surname, first
name and city: every pair in a group is a duplicate pair, the pathological case of
issue 12), then runs the person scan ``--scans`` times, each in a child process with a
time limit (``--timeout``), and prints per scan: wall time, pairs found and stored,
and the time per 1,000 persons. A second scan finds every pair again and updates it.

``--src DIR`` imports ``kontor`` from another checkout (e.g. a worktree of the commit
before a fix) to compare: the script itself uses only what both sides have.
Every wait is bounded; the cluster is always stopped.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from pgcluster import throwaway_cluster  # noqa: E402

PRODUCTION_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")
    import django

    django.setup()


def child_load_crowded(persons: int, group: int) -> None:
    """Persons in groups sharing surname, first name and city (keys derived)."""
    _setup_django()
    from kontor.customers.duplicates import derive_person_keys
    from kontor.customers.models import Person

    rows = []
    for index in range(persons):
        number = index // group
        person = Person(
            first_name="Anna",
            last_name="Müller",
            city="Ort" + chr(97 + number // 26 % 26) + chr(97 + number % 26),
            email=f"anna{index}@example.org",
        )
        derive_person_keys(person)
        rows.append(person)
    Person.objects.bulk_create(rows, batch_size=1000)
    print(json.dumps({"persons": Person.objects.count()}))


def child_scan() -> None:
    _setup_django()
    from kontor.customers.models import DuplicatePair, DuplicateScan, Person
    from kontor.customers.tasks import duplicate_scan

    scan = DuplicateScan.objects.create(kind="person")
    started = time.perf_counter()
    duplicate_scan.call(scan.pk)
    seconds = time.perf_counter() - started
    scan.refresh_from_db()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "status": str(scan.status),
                "done": scan.done,
                "total": scan.total,
                "pairs_found": scan.pairs_found,
                "pairs_stored": DuplicatePair.objects.filter(kind="person").count(),
                "persons": Person.objects.count(),
            }
        )
    )


def run_child(env: dict, args: list[str], timeout: float) -> dict | None:
    """Run this script as a child; None when it outlived ``timeout`` (then killed)."""
    process = subprocess.Popen(
        [sys.executable, __file__, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None
    if process.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{out}\n{err}")
    return json.loads(out.strip().splitlines()[-1])


def kontor(env: dict, *args: str, timeout: float) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kontor.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=["demo", "crowded"], default="demo")
    parser.add_argument("--size", default="small")
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--group", type=int, default=60)
    parser.add_argument("--scans", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per scan")
    parser.add_argument("--src", default=str(ROOT / "src"), help="where kontor is imported")
    parser.add_argument("--child", choices=["scan", "crowded"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "scan":
        return child_scan()
    if args.child == "crowded":
        return child_load_crowded(args.persons, args.group)

    import psycopg

    with throwaway_cluster(settings=PRODUCTION_SETTINGS) as url:
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE kontor")
            version = conn.execute("SHOW server_version").fetchone()[0]
            fsync = conn.execute("SHOW fsync").fetchone()[0]
        env = {k: v for k, v in os.environ.items() if k not in {"KONTOR_TESTING"}}
        env.update(
            DATABASE_URL=url,
            PYTHONPATH=args.src,
            DEBUG="0",
            HTTPS="false",
            SECRET_KEY=secrets.token_urlsafe(40),
            LOG_LEVEL="WARNING",
        )
        print(f"PostgreSQL {version}, fsync={fsync}; kontor from {args.src}", flush=True)
        kontor(env, "migrate", "--no-input", timeout=900)
        started = time.monotonic()
        if args.data == "demo":
            kontor(env, "demo", "--size", args.size, timeout=3600)
        else:
            crowded = ["--child", "crowded", "--persons", str(args.persons)]
            run_child(env, [*crowded, "--group", str(args.group)], timeout=600)
        print(f"loaded in {time.monotonic() - started:.1f} s", flush=True)
        for number in range(1, args.scans + 1):
            result = run_child(env, ["--child", "scan"], timeout=args.timeout)
            if result is None:
                print(f"scan {number}: not finished after {args.timeout:.0f} s (stopped)")
                break
            per_thousand = result["seconds"] / max(result["persons"], 1) * 1000
            result["seconds_per_1000_persons"] = round(per_thousand, 3)
            print(f"scan {number}: " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
