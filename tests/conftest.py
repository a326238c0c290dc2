"""Shared fixtures: the example flows, a built site and a browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
SHARED_DATA = PROJECT.parent / "shared"
"""Test data kept beside the repository, not in it: the DMN TCK and
published rule tables. The project does not install it, so tests that
read it skip where it is missing."""


def require_shared_data(folder: Path) -> None:
    """Skip the calling test unless ``folder`` of the shared test data exists."""
    if not folder.is_dir():
        pytest.skip(f"the shared test data is not at {folder}")


FIXTURE_STEPS = TESTS / "fixtures" / "steps"

REGENERATE = os.environ.get("STAPPEN_REGENERATE") == "1"
"""Set STAPPEN_REGENERATE=1 to rewrite expected files instead of comparing."""


@pytest.fixture
def steps_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the fixture flows in a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(FIXTURE_STEPS, tmp_path / "steps")
    return Path("steps")


@pytest.fixture(scope="session")
def built_fixture_site(tmp_path_factory) -> Path:
    """The fixture flows built once into a site folder."""
    from stappen.building import build

    out = tmp_path_factory.mktemp("site")
    build(FIXTURE_STEPS, out, base_url="/proef/portaal/", workers=1)
    return out


FIXTURE_SITE_PREFIX = "/proef/portaal/"
"""The sub-path the browser tests serve the fixture site under."""


@pytest.fixture(scope="session")
def fixture_site_url(built_fixture_site):
    """Serve the built fixture site over HTTP and yield the URL of its root."""
    from tests.sitecrawl import serve_site

    with serve_site(built_fixture_site, FIXTURE_SITE_PREFIX) as base:
        yield base + FIXTURE_SITE_PREFIX


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (see tests/browser.py)."""
    from tests.browser import running_chromium

    with running_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium):
    """A page in a new browser context, so each test starts with empty storage."""
    from tests.browser import new_page

    with new_page(chromium) as page:
        yield page


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (see tests/postgres.py).

    Skips the tests that need it when PostgreSQL is not installed, unless
    the CI environment variable is set: CI installs it, so there it fails.
    """
    from tests.postgres import find_bin_dir, running_postgres

    bin_dir = find_bin_dir()
    if bin_dir is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found: "
            "run 'apt-get install postgresql' or set STAPPEN_POSTGRES_BIN"
        )
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)

    with running_postgres(bin_dir) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The URL of an empty database, once SQLite and once PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stappen.sqlite3'}"
        return

    import uuid

    server = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture
def store(database_url, tmp_path):
    """A store with its schema, on each backend in turn."""
    from stappen.storage import open_store

    store = open_store(database_url, tmp_path / "instance")
    store.init_schema()
    return store


@pytest.fixture
def db(store):
    """An open connection to ``store``, closed after the test."""
    with store.connection() as connection:
        yield connection
