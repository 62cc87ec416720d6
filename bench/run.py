"""Kontor's benchmark: the real server, real demo data, real HTTP.

    python bench/run.py --size small|medium|large [--databases sqlite,postgres]

For each database (SQLite in a fresh temporary file; PostgreSQL in a throwaway cluster
from scripts/pgcluster.py, skipped when its binaries are missing) this migrates, loads
``kontor demo --size SIZE`` (timed), starts ``kontor serve`` on a free port, logs in as
the demo user ``rep`` (session cookie) and makes an API token for it, then runs every
entry of SCENARIOS at each concurrency: warm-up requests, then a fixed number of timed
requests over keep-alive connections, one per client thread. It samples the memory of
the server's process tree throughout, stops the server (the whole process group), and
writes a markdown report to bench/results/<date>-<size>.md.

Only the standard library talks HTTP, so the client costs the same everywhere. Every
count and wait is bounded: the script always ends by itself.
"""

import argparse
import contextlib
import dataclasses
import datetime as dt
import http.client
import http.cookies
import json
import math
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import kontor_server  # noqa: E402
from kontor_server import free_port, isolated_env, kontor, tail  # noqa: E402
from pgcluster import find_bindir, throwaway_cluster  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BENCH_USER = "rep"
DEMO_PASSWORD = "kontor-demo"  # noqa: S105 - the demo data's printed password


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One thing to measure: a request (GET unless ``method`` says otherwise) of
    ``path`` as the logged-in demo user.

    ``path`` and the string values of ``body`` (sent as JSON) may name fixtures in
    braces ({person}, {organization}); each request takes the next one in turn. A
    fixture may be a whole path ({timeline_history}). ``auth`` is "session" (browser
    cookie), "token" (read-only API bearer token), "token-write" (read-write token) or
    None (anonymous); sessions log in as ``user`` (tokens are always the bench user's).
    A ``fresh`` scenario uses each fixture value once, over all its runs (a write that
    uses its record up, e.g. marks a step item done); with too few left it makes fewer
    requests and says so."""

    name: str
    path: str
    auth: str | None = "session"
    status: int = 200
    method: str = "GET"
    body: tuple[tuple[str, str], ...] | None = None  # (key, value) pairs: hashable
    user: str = BENCH_USER
    fresh: bool = False


# Adding a scenario is one line here.
SCENARIOS = [
    Scenario("healthz", "/healthz", auth=None),
    Scenario("start page", "/"),
    Scenario("person list", "/customers/persons/"),
    Scenario("person list ?q=Mül", "/customers/persons/?q=Mül"),
    # The customers issue's list: 50 rows of the user's own persons, sorted by name.
    Scenario("person list ?owner=me sorted by name", "/customers/persons/?owner=me&sort=name"),
    Scenario("person detail", "/customers/persons/{person}/"),
    Scenario("API person list", "/api/v1/persons?limit=50", auth="token"),
    Scenario("API person detail", "/api/v1/persons/{person}", auth="token"),
    Scenario("global search ?q=Müller", "/search/?q=Müller"),
    Scenario("API search surname typo", "/api/v1/search?q=Meyer", auth="token"),
    # No name is spelled so, Meyer and Maier sound alike: the spelled matches are few.
    Scenario("API search typo, found by sound only", "/api/v1/search?q=Meier", auth="token"),
    Scenario("API search word nobody has", "/api/v1/search?q=Qwertz", auth="token"),
    Scenario("API search company prefix", "/api/v1/search?q=Schmi", auth="token"),
    Scenario("API search e-mail", "/api/v1/search?q={email}", auth="token"),
    # A phone number as people type it: national notation, spaces and a slash.
    Scenario("API search phone", "/api/v1/search?q={phone}", auth="token"),
    # The demo's timeline customer (Musterkunde GmbH, Erika Mustermann): 10,000 activities.
    Scenario("timeline 10k first page", "{timeline_history}"),
    # Its 360° page (the sections load on their own; the page's queries are constant).
    Scenario("person detail, 10k activities", "/customers/persons/{timeline_person}/"),
    Scenario(
        "API timeline 10k first page",
        "/api/v1/activities?person={timeline_person}&limit=25",
        auth="token",
    ),
    Scenario(
        "API log an activity",
        "/api/v1/activities",
        auth="token-write",
        status=201,
        method="POST",
        body=(
            ("kind", "call"),
            ("direction", "out"),
            ("subject", "Benchmark: Nachfassen"),
            ("text", "Angebot besprochen, Rückruf nächste Woche."),
            ("person", "{person}"),
        ),
    ),
    Scenario("My day", "/activities/"),
    Scenario("calendar week", "/calendar/?view=week"),
    # Customer processes (kontor.demo.processes): the trade-fair scene has the most
    # instances; the figures are for people who analyse, so as the sales manager.
    Scenario("process figures (trade fair)", "/processes/{trade_fair_process}/figures/",
             user="manager"),
    Scenario("process instance detail", "/processes/instances/{process_instance}/"),
    # Each request marks a different open required item of a running instance done.
    Scenario("API advance a step (item done)", "{advance_item}", auth="token-write",
             method="POST", body=(), fresh=True),
    Scenario("process drawing 30 steps", "/processes/{long_process}/drawing.svg"),
]  # fmt: skip

# Fixture name -> (API list, web list): the scenarios' {name} takes the uuids of the
# records the API lists for the bench user in turn; the web list's links stand in when
# the API fails (its scenarios then show the errors).
FIXTURES = {
    "person": ("/api/v1/persons?limit=100", "/customers/persons/"),
    "organization": ("/api/v1/organizations?limit=100", "/customers/organizations/"),
}
# The customer with the long timeline (kontor.demo.activities) and the URL of its
# history section, read from its 360° page: fixtures looked up by functions, see
# special_fixtures().
TIMELINE_LAST_NAME = "Mustermann"
TIMELINE_EMAIL = "erika.mustermann@musterkunde.de"
HISTORY_URL = re.compile(r'hx-get="(/activities/history/[0-9a-f-]{36}/)"')
# The processes of the process scenarios, by key: the shipped trade-fair scene (the most
# instances in the demo) and the demo's 30-step process (kontor.demo.processes).
TRADE_FAIR_PROCESS = "trade_fair_visitor"
LONG_PROCESS = "project_tender"
PAGE = 200  # API page size when collecting fixtures


# --- HTTP -----------------------------------------------------------------------------


class Client:
    """One keep-alive connection with a cookie jar and optional bearer token."""

    def __init__(self, port: int, *, cookies: dict[str, str] | None = None, token: str = ""):
        self.port = port
        self.cookies = dict(cookies or {})
        self.token = token
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict, bytes]:
        headers = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, quote(path, safe="/?=&%:;,+@"), body, headers)
                response = self.conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException):
                # The server closed an idle keep-alive connection: reconnect once.
                # (A timeout is not retried: it counts as an error.)
                self.close()
                if attempt == 2:
                    raise
                continue
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    jar = http.cookies.SimpleCookie(value)
                    self.cookies.update({k: m.value for k, m in jar.items()})
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, dict(response.getheaders()), data
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes]:
        status, _headers, data = self.request("GET", path)
        return status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def login(port: int, username: str, password: str) -> dict[str, str]:
    """Log in through the login form; return the session's cookies."""
    client = Client(port)
    status, _ = client.get("/accounts/login/")
    assert status == 200, f"login page: HTTP {status}"
    csrf = client.cookies["csrftoken"]
    body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
    status, _headers, _ = client.request(
        "POST",
        "/accounts/login/",
        body=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    client.close()
    if status != 302 or "sessionid" not in client.cookies:
        raise RuntimeError(f"login as {username} failed: HTTP {status}")
    return client.cookies


# --- Measuring ------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    scenario: str
    concurrency: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    per_second: float
    note: str = ""


def failed(scenario: Scenario, concurrency: int, why: str) -> Result:
    nan = float("nan")
    return Result(scenario.name, concurrency, 0, 0, nan, nan, nan, note=f"not run: {why}")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)  # nearest rank
    return ordered[min(len(ordered), max(1, math.ceil(pct / 100 * len(ordered)))) - 1]


def fields_of(scenario: Scenario) -> set[str]:
    """The fixture names the scenario's path and body use."""
    return {
        field
        for template in (scenario.path, *(v for _k, v in scenario.body or ()))
        for _text, field, _spec, _conv in string.Formatter().parse(template)
        if field
    }


def run_scenario(
    scenario: Scenario,
    *,
    port: int,
    session: dict[str, str],
    token: str,
    write_token: str,
    fixtures: dict[str, list[str]],
    concurrency: int,
    requests: int,
    warmup: int,
    time_limit: float,
    used: dict[str, int] | None = None,
    runs_left: int = 1,
) -> Result:
    def make_client() -> Client:
        if scenario.auth == "session":
            return Client(port, cookies=session)
        if scenario.auth == "token":
            return Client(port, token=token)
        if scenario.auth == "token-write":
            return Client(port, token=write_token)
        return Client(port)

    # A fresh scenario starts after the values its earlier runs used up, and makes no
    # more requests than there are values left.
    first, timed_from, note = 0, 0, ""
    if scenario.fresh:
        used = used if used is not None else {}
        names = fields_of(scenario)
        first = max((used.get(n, 0) for n in names), default=0)
        # Shared fairly with the runs (concurrencies) still to come.
        left = min((len(fixtures.get(n, [])) - first for n in names), default=0) // runs_left
        if left < warmup + requests:
            warmup = min(warmup, left // 10)
            note = f"only {max(left, 0)} unused fixtures"
            requests = max(0, left - warmup)
        for n in names:
            used[n] = first + warmup + requests
        timed_from = warmup
        if requests == 0:
            return failed(scenario, concurrency, note)

    def values_for(i: int) -> dict[str, str]:
        i += first
        return {name: items[i % len(items)] for name, items in fixtures.items() if items}

    def send(client: Client, i: int) -> tuple[int, bytes]:
        values = values_for(i)
        path = scenario.path.format(**values)
        if scenario.body is None:
            return client.get(path)
        body = json.dumps({k: v.format(**values) for k, v in scenario.body}).encode()
        status, _headers, data = client.request(
            scenario.method, path, body=body, headers={"Content-Type": "application/json"}
        )
        return status, data

    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(timed_from, timed_from + requests))
    latencies: list[float] = []
    deadline = time.monotonic() + time_limit

    def check(status: int, body: bytes) -> None:
        if status != scenario.status:
            with lock:
                errors.append(f"HTTP {status}")

    client = make_client()
    for i in range(warmup):
        check(*send(client, i))
    client.close()
    errors.clear()

    def work() -> None:
        client = make_client()
        try:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                try:
                    status, body = send(client, i)
                except OSError as exc:
                    with lock:
                        errors.append(type(exc).__name__)
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                check(status, body)
        finally:
            client.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 90)
    wall = time.perf_counter() - started
    done = len(latencies)
    if done < requests:
        note = "; ".join(filter(None, [note, f"stopped after {time_limit:.0f} s"]))
    if errors:
        note = "; ".join(filter(None, [note, f"first error: {errors[0]}"]))
    return Result(
        scenario=scenario.name,
        concurrency=concurrency,
        requests=done,
        errors=len(errors),
        p50_ms=statistics.median(latencies) * 1000 if latencies else float("nan"),
        p95_ms=percentile(latencies, 95) * 1000,
        per_second=done / wall if wall else float("nan"),
        note=note,
    )


class MemorySampler(threading.Thread):
    """Samples the resident memory of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_total_kib = 0  # largest sum of VmRSS over the tree at one moment
        self.peak_single_kib = 0  # largest VmHWM (a process's own peak) seen
        self.peak_processes = 0

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        tree = process_tree(self.pid)
        total = 0
        for pid in tree:
            status = read_status(pid)
            total += status.get("VmRSS", 0)
            self.peak_single_kib = max(self.peak_single_kib, status.get("VmHWM", 0))
        self.peak_total_kib = max(self.peak_total_kib, total)
        self.peak_processes = max(self.peak_processes, len(tree))

    def stop(self) -> None:
        self.sample()
        self.stop_event.set()
        self.join(5)


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses; fields follow the last ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    tree, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        if pid in parents or pid == root:
            tree.append(pid)
            frontier.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def read_status(pid: int) -> dict[str, int]:
    values = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


# --- The server -----------------------------------------------------------------------


@contextlib.contextmanager
def server(env: dict, port: int, workers: int, log_path: Path) -> Iterator[subprocess.Popen]:
    """``kontor serve`` (kontor_server.server), then a check that nothing is left over."""
    try:
        with kontor_server.server(env, port, log_path, workers=workers) as process:
            yield process
    finally:
        leftovers = leftover_processes(f"127.0.0.1:{port}")
        if leftovers:
            print(f"  WARNING: server processes left over: {leftovers}")
        else:
            print("  server stopped; no processes left over")


def leftover_processes(pattern: str) -> list[str]:
    """pgrep -f: processes whose command line contains ``pattern``."""
    pgrep = shutil.which("pgrep")
    if pgrep:
        return subprocess.run(
            [pgrep, "-f", pattern], capture_output=True, text=True, check=False
        ).stdout.split()
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as handle:
            if pattern.encode() in handle.read():
                found.append(entry)
    return found


# --- One database ---------------------------------------------------------------------


@dataclasses.dataclass
class DatabaseReport:
    label: str
    version: str = ""
    load_seconds: float = 0.0
    load_summary: str = ""
    results: list[Result] = dataclasses.field(default_factory=list)
    peak_total_kib: int = 0
    peak_single_kib: int = 0
    processes: int = 0
    skipped: str = ""
    error: str = ""


def bench_database(label: str, database_url: str | None, args) -> DatabaseReport:
    """Measure one database; a failure is kept in the report with what was measured."""
    report = DatabaseReport(label)
    workdir = Path(tempfile.mkdtemp(prefix="kontor-bench-"))
    try:
        _bench_database(report, workdir, database_url, args)
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        print(f"== {label}: FAILED: {report.error}\n{tail(workdir / 'server.log', 80)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def _bench_database(report: DatabaseReport, workdir: Path, database_url: str | None, args):
    label = report.label
    env = isolated_env(workdir, database_url)
    print(f"== {label}: migrate")
    kontor(env, "migrate", "--no-input", timeout=600)
    print(f"== {label}: kontor demo --size {args.size}")
    started = time.monotonic()
    output = kontor(env, "demo", "--size", args.size, timeout=args.load_timeout)
    report.load_seconds = time.monotonic() - started
    report.load_summary = next(
        (line.split(":", 1)[1].strip() for line in output.splitlines() if "loaded:" in line),
        "",
    )
    print(f"   loaded in {report.load_seconds:.1f} s: {report.load_summary}")
    token = kontor(env, "token", BENCH_USER, "--scope", "read", timeout=120).split()[-1]
    write_token = kontor(
        env, "token", BENCH_USER, "--scope", "read_write", "--name", "bench-write", timeout=120
    ).split()[-1]
    port = free_port()
    with server(env, port, args.workers, workdir / "server.log") as process:
        sampler = MemorySampler(process.pid)
        sampler.start()
        try:
            vendor = healthz_vendor(port)
            assert vendor == ("postgresql" if database_url else "sqlite"), vendor
            session = login(port, BENCH_USER, DEMO_PASSWORD)
            sessions = {BENCH_USER: session}
            chosen = [s for s in SCENARIOS if _chosen(s, args.only)]
            writes = (args.warmup + args.requests) * len(args.concurrency)
            fixtures, problems = collect_fixtures(port, token, session, chosen, writes=writes)
            used: dict[str, int] = {}
            for scenario in chosen:
                if scenario.user not in sessions:
                    sessions[scenario.user] = login(port, scenario.user, DEMO_PASSWORD)
                for index, concurrency in enumerate(args.concurrency):
                    missing = [problems[f] for f in problems if "{" + f + "}" in scenario.path]
                    if missing:
                        report.results.append(failed(scenario, concurrency, missing[0]))
                        continue
                    result = run_scenario(
                        scenario,
                        port=port,
                        session=sessions[scenario.user],
                        token=token,
                        write_token=write_token,
                        fixtures=fixtures,
                        concurrency=concurrency,
                        requests=args.requests,
                        warmup=args.warmup,
                        time_limit=args.scenario_seconds,
                        used=used,
                        runs_left=len(args.concurrency) - index,
                    )
                    report.results.append(result)
                    print(
                        f"   {result.scenario:<22} c={concurrency} "
                        f"p50 {result.p50_ms:7.1f} ms  p95 {result.p95_ms:7.1f} ms  "
                        f"{result.per_second:7.1f} req/s"
                        + (f"  errors {result.errors} ({result.note})" if result.note else "")
                    )
        finally:
            sampler.stop()
            report.peak_total_kib = sampler.peak_total_kib
            report.peak_single_kib = sampler.peak_single_kib
            report.processes = sampler.peak_processes


def healthz_vendor(port: int) -> str:
    client = Client(port)
    _status, body = client.get("/healthz")
    client.close()
    return json.loads(body).get("vendor", "")


def collect_fixtures(
    port: int,
    token: str,
    session: dict[str, str],
    scenarios: list[Scenario] | None = None,
    *,
    writes: int = 0,
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The uuids for the fixtures that ``scenarios`` (default: SCENARIOS) name; and
    for each fixture that could not be read at all, why (its scenarios are then
    reported as not run). ``writes``: how many values a fresh scenario uses up."""
    needed = {field for scenario in scenarios or SCENARIOS for field in fields_of(scenario)}
    api, web = Client(port, token=token), Client(port, cookies=session)
    fixtures, problems = {}, {}
    special = special_fixtures(api, web, writes=writes)
    for name in sorted(needed):
        if name in special:
            try:
                fixtures[name] = special[name]()
            except FixtureMissing as exc:
                fixtures[name] = []
                problems[name] = str(exc)
                print(f"   fixture {name}: {exc}")
            continue
        api_path, web_path = FIXTURES[name]
        status, body = api.get(api_path)
        if status == 200:
            fixtures[name] = [item["uuid"] for item in json.loads(body)["items"]]
        else:
            print(f"   fixture {name}: GET {api_path}: HTTP {status}; using {web_path}")
            web_status, html = web.get(web_path)
            pattern = re.escape(web_path) + r"([0-9a-f]{8}-[0-9a-f-]{27})/"
            found = re.findall(pattern, html.decode(errors="replace"))
            fixtures[name] = list(dict.fromkeys(found))
            if web_status != 200:
                problems[name] = f"GET {api_path}: HTTP {status}, {web_path}: HTTP {web_status}"
        if not fixtures[name] and name not in problems:
            problems[name] = f"no {name} records for {BENCH_USER}"
    api.close()
    web.close()
    return fixtures, problems


class FixtureMissing(Exception):
    """A fixture the demo data or the build does not have: its scenarios are skipped."""


def special_fixtures(api: Client, web: Client, *, writes: int = 0) -> dict:
    """Fixtures looked up by a function (name -> function returning the values)."""
    found: dict[str, list[str]] = {}

    def timeline_person() -> list[str]:
        if "person" not in found:
            status, body = api.get(f"/api/v1/persons?q={TIMELINE_LAST_NAME}&limit=50")
            if status != 200:
                raise FixtureMissing(f"GET /api/v1/persons: HTTP {status}")
            items = json.loads(body)["items"]
            uuids = [i["uuid"] for i in items if i.get("email") == TIMELINE_EMAIL]
            if not uuids:
                raise FixtureMissing(f"no person {TIMELINE_EMAIL} in the demo data")
            found["person"] = uuids[:1]
        return found["person"]

    def timeline_history() -> list[str]:
        """The history section's URL as the person's 360° page loads it."""
        (uuid,) = timeline_person()
        status, html = web.get(f"/customers/persons/{uuid}/")
        match = HISTORY_URL.search(html.decode(errors="replace"))
        if status != 200 or match is None:
            raise FixtureMissing(f"no history section on the person page (HTTP {status})")
        return [match.group(1)]

    def api_timeline_person() -> list[str]:
        """The person, if GET /api/v1/activities?person= exists in this build."""
        (uuid,) = timeline_person()
        status, _body = api.get(f"/api/v1/activities?person={uuid}&limit=1")
        if status != 200:
            raise FixtureMissing(f"GET /api/v1/activities?person=: HTTP {status}")
        return [uuid]

    def persons_with(field: str) -> list[str]:
        """Values of ``field`` of the persons the bench user sees (first page)."""
        status, body = api.get("/api/v1/persons?limit=100")
        if status != 200:
            raise FixtureMissing(f"GET /api/v1/persons: HTTP {status}")
        values = [i[field] for i in json.loads(body)["items"] if i.get(field)]
        if not values:
            raise FixtureMissing(f"no person with {field} for {BENCH_USER}")
        return values

    def phone() -> list[str]:
        """The persons' phones (E.164) as typed: "0221 / 123 45 67" style."""
        typed = []
        for number in persons_with("phone"):
            if number.startswith("+49"):
                national = "0" + number[3:]
                typed.append(quote(f"{national[:4]} / {national[4:7]} {national[7:]}"))
        if not typed:
            raise FixtureMissing("no German phone numbers in the demo data")
        return typed

    def process(key: str) -> list[str]:
        """The uuid of the process with ``key`` (kontor.processes.scenes, kontor.demo.processes)."""
        status, body = api.get("/api/v1/processes?limit=200")
        if status != 200:
            raise FixtureMissing(f"GET /api/v1/processes: HTTP {status}")
        uuids = [p["uuid"] for p in json.loads(body)["items"] if p.get("key") == key]
        if not uuids:
            raise FixtureMissing(f"no process {key!r} in the demo data")
        return uuids

    def running_instances(limit: int) -> Iterator[str]:
        """The running instances the bench user sees, newest first, page by page."""
        path = f"/api/v1/process-instances?status=running&limit={PAGE}"
        seen = 0
        while path and seen < limit:
            status, body = api.get(path)
            if status != 200:
                raise FixtureMissing(f"GET /api/v1/process-instances: HTTP {status}")
            page = json.loads(body)
            for item in page["items"]:
                seen += 1
                yield item["uuid"]
            cursor = page.get("next_cursor")
            path = (
                f"/api/v1/process-instances?status=running&limit={PAGE}&cursor={cursor}"
                if cursor
                else ""
            )

    def process_instance() -> list[str]:
        uuids = list(running_instances(100))
        if not uuids:
            raise FixtureMissing(f"no running process instances for {BENCH_USER}")
        return uuids

    def advance_item() -> list[str]:
        """The "item done" URLs of one open required item per running instance (one
        per instance: concurrent requests must not finish each other's step)."""
        paths = []
        for uuid in running_instances(max(200, 4 * writes)):
            status, body = api.get(f"/api/v1/process-instances/{uuid}")
            if status != 200:
                continue
            open_items = [
                i for i in json.loads(body)["items"] if i["required"] and i["done_at"] is None
            ]
            if open_items:
                paths.append(f"/api/v1/process-instances/{uuid}/items/{open_items[0]['id']}/done")
            if len(paths) >= writes:
                break
        if not paths:
            raise FixtureMissing(f"no open step items of running processes for {BENCH_USER}")
        return paths

    return {
        "timeline_person": api_timeline_person,
        "timeline_history": timeline_history,
        "email": lambda: [quote(e) for e in persons_with("email")],
        "phone": phone,
        "trade_fair_process": lambda: process(TRADE_FAIR_PROCESS),
        "long_process": lambda: process(LONG_PROCESS),
        "process_instance": process_instance,
        "advance_item": advance_item,
    }


def postgres_report(args) -> DatabaseReport:
    if find_bindir() is None:
        print("== PostgreSQL: SKIPPED (no PostgreSQL binaries; install postgresql)")
        return DatabaseReport("PostgreSQL", skipped="no PostgreSQL binaries")
    import psycopg

    with throwaway_cluster() as url:
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE kontor")
            version = conn.execute("SHOW server_version").fetchone()[0]
        report = bench_database("PostgreSQL", url, args)
        report.version = f"PostgreSQL {version.split()[0]} (throwaway cluster, fsync off)"
        return report


def sqlite_report(args) -> DatabaseReport:
    report = bench_database("SQLite", None, args)
    report.version = f"SQLite {sqlite3.sqlite_version} (WAL)"
    return report


# --- Report ---------------------------------------------------------------------------


def markdown(size: str, reports: list[DatabaseReport], args, load_before: str) -> str:
    git = shutil.which("git")
    commit = (
        subprocess.run(
            [git, "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if git
        else ""
    )
    lines = [
        f"# Kontor benchmark: {size} ({dt.date.today().isoformat()})",
        "",
        f"- commit {commit or '?'}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}; load average before {load_before}, "
        f"after {load_average()} (other work on the machine skews the numbers)",
        f"- server: `kontor serve --workers {args.workers}` (gunicorn, 4 threads per worker), "
        "client and server on the same machine",
        f"- per scenario and concurrency: {args.warmup} warm-up requests, then "
        f"{args.requests} timed requests over keep-alive connections (one per client thread), "
        f"logged in as `{BENCH_USER}` (team visibility)",
        "",
    ]
    for report in reports:
        lines += [f"## {report.label}", ""]
        if report.skipped:
            lines += [f"Skipped: {report.skipped}.", ""]
            continue
        lines += [
            f"- {report.version}",
            f"- demo load (`kontor demo --size {size}`): **{report.load_seconds:.1f} s** "
            f"({report.load_summary})",
            f"- peak memory of the server process tree ({report.processes} processes): "
            f"**{report.peak_total_kib / 1024:.0f} MiB** (sum of RSS, sampled every 0.2 s); "
            f"largest single process {report.peak_single_kib / 1024:.0f} MiB (VmHWM)",
            "",
            "| scenario | concurrency | requests | p50 ms | p95 ms | req/s | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in report.results:
            errors = f"{r.errors} ({r.note})" if r.note else str(r.errors)
            lines.append(
                f"| {r.scenario} | {r.concurrency} | {r.requests} | {number(r.p50_ms)} "
                f"| {number(r.p95_ms)} | {number(r.per_second)} | {errors} |"
            )
        if report.error:
            lines += ["", f"**Failed:** {report.error}"]
        lines.append("")
    return "\n".join(lines)


def number(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f}"


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _chosen(scenario, only: list[str]) -> bool:
    """With --only, the scenarios whose name contains one of the given words."""
    return not only or any(word.lower() in scenario.name.lower() for word in only)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["small", "medium", "large"], default="small")
    parser.add_argument(
        "--databases",
        default="sqlite,postgres",
        type=lambda s: [d.strip() for d in s.split(",") if d.strip()],
        help="comma-separated: sqlite, postgres (default: both)",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per run")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--concurrency",
        default=[1, 4],
        type=lambda s: [int(c) for c in s.split(",")],
        help="comma-separated client thread counts (default: 1,4)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--scenario-seconds", type=float, default=120, help="time limit for one timed run"
    )
    parser.add_argument(
        "--load-timeout", type=float, default=1800, help="time limit for the demo load (s)"
    )
    parser.add_argument("--output", type=Path, default=None, help="report file (markdown)")
    parser.add_argument(
        "--only",
        default=[],
        type=lambda s: [w.strip() for w in s.split(",") if w.strip()],
        help="comma-separated words: run only the scenarios whose name contains one",
    )
    args = parser.parse_args()
    unknown = set(args.databases) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")

    # On SIGTERM (e.g. from `timeout`) unwind like Ctrl-C, so that the server's process
    # group and the PostgreSQL cluster are still stopped by their context managers.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    load_before = load_average()
    reports = []
    if "sqlite" in args.databases:
        reports.append(sqlite_report(args))
    if "postgres" in args.databases:
        reports.append(postgres_report(args))

    text = markdown(args.size, reports, args, load_before)
    output = args.output or RESULTS / f"{dt.date.today().isoformat()}-{args.size}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    print()
    print(text)
    print(f"Written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    failures = [
        r for report in reports for r in report.results if r.errors or r.note.startswith("not run")
    ]
    return 1 if failures or any(report.error for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
