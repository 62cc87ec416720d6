"""The import contracts of `make lint` (pyproject.toml, [tool.importlinter]) hold for
Kontor as it is, and fail on what they exist to stop: core importing a domain app, a
domain app importing one above it, and an import cycle. Each case runs lint-imports,
as `make lint` does, on a copy of the source with one import added."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from kontor.core import search
from kontor.core.customfields import ENTITIES
from kontor.core.navigation import nav_modules
from tests.core.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def source(tmp_path) -> Path:
    """A copy of src/kontor's Python files, to add an import to."""
    shutil.copytree(
        ROOT / "src" / "kontor",
        tmp_path / "kontor",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "locale"),
    )
    return tmp_path


def _add_import(src: Path, module: str, line: str) -> None:
    path = src / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_contracts_hold_for_kontor_as_it_is(source):
    result = _lint_imports(source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "reported"),
    [
        # Core imports no domain app, even inside a function.
        (
            "kontor.core.audit",
            "def f():\n    from kontor.customers import models",
            "kontor.core is not allowed to import kontor.customers",
        ),
        # A domain app imports none above it.
        (
            "kontor.customers.queries",
            "from kontor.activities import models",
            "kontor.customers is not allowed to import kontor.activities",
        ),
        # Nothing imports the settings module (django.conf.settings) or the entry points.
        (
            "kontor.mail.queries",
            "from kontor import settings",
            "kontor.mail is not allowed to import kontor.settings",
        ),
    ],
)
def test_an_upward_import_breaks_the_contracts(source, module, line, reported):
    _add_import(source, module, line)
    result = _lint_imports(source)
    assert result.returncode == 1, result.stdout
    assert reported in result.stdout


def test_an_import_cycle_breaks_the_contracts(source):
    # search_views imports the search package; the search package importing it back
    # makes a cycle between two modules of core.
    _add_import(source, "kontor.core.search.tokens", "from kontor.core import search_views")
    result = _lint_imports(source)
    assert result.returncode == 1, result.stdout
    assert "No cycles are allowed in kontor.core." in result.stdout


def test_customers_register_what_core_shows_of_them():
    """Core names no customer model; the customers app registers them at start-up,
    in the order core shows them."""
    assert list(search.KINDS)[:2] == ["person", "organization"]
    assert list(ENTITIES)[:2] == ["customers.person", "customers.organization"]
    keys = [m.key for m in nav_modules()]
    assert keys == [
        *("customers", "activities", "calendar", "mail", "sales", "service"),
        *("marketing", "processes", "analytics", "admin"),
    ]


def test_my_settings_link_what_the_apps_registered(client, db):
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("core:profile")).content.decode()
    assert f'<a href="{reverse("activities:feed_settings")}">Calendar subscription</a>' in page
