"""A throwaway PostgreSQL server for tests, reachable only by a Unix socket.

The server runs from Debian's binaries (``apt-get install postgresql``)
in a temporary folder under /tmp. PostgreSQL refuses to run as root, so as
root the server runs as the ``postgres`` system user. It listens on no TCP
port, trusts every local connection, and skips fsync, because its data
is thrown away when the tests end.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"
PORT = 5432
"""Only names the socket file: the server listens on no TCP port."""

START_TIMEOUT_SECONDS = 60

SERVER_SETTINGS = """
listen_addresses = ''
unix_socket_directories = '{socket_dir}'
port = {port}
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
"""


class PostgresServer:
    """A running test server: hands out fresh databases by URL."""

    def __init__(self, socket_dir: Path):
        self.socket_dir = socket_dir

    def url(self, database: str) -> str:
        return (
            f"postgresql://{SERVER_USER}@/{database}?host={self.socket_dir}&port={PORT}"
        )

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, ending connections that tests left open."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def find_bin_dir() -> Path | None:
    """Return the folder of initdb and pg_ctl, the newest installed, or None.

    ``STAPPEN_POSTGRES_BIN`` overrides the search.
    """
    override = os.environ.get("STAPPEN_POSTGRES_BIN")
    if override:
        return Path(override)

    candidates = [
        path for path in Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")) if _has_tools(path)
    ]
    if candidates:
        return max(candidates, key=lambda path: int(path.parent.name))

    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _has_tools(bin_dir: Path) -> bool:
    return (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file()


@contextmanager
def running_postgres(bin_dir: Path) -> Iterator[PostgresServer]:
    """Start a server in a new temporary folder, yield it, then stop and remove it."""
    base = Path(tempfile.mkdtemp(prefix="stappen-pg-", dir="/tmp"))
    data_dir = base / "data"
    try:
        _give_to_server_user(base)
        _run(
            bin_dir / "initdb",
            "-D",
            data_dir,
            "-U",
            SERVER_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        settings = SERVER_SETTINGS.format(socket_dir=base, port=PORT)
        with open(data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(settings)
        _start(bin_dir, data_dir, base / "server.log")
        log.info("Started a test PostgreSQL server in %s", base)
        try:
            yield PostgresServer(base)
        finally:
            _run(bin_dir / "pg_ctl", "-D", data_dir, "-m", "immediate", "-w", "stop")
            log.info("Stopped the test PostgreSQL server in %s", base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _start(bin_dir: Path, data_dir: Path, log_file: Path) -> None:
    try:
        _run(
            bin_dir / "pg_ctl",
            "-D",
            data_dir,
            "-l",
            log_file,
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
        )
    except RuntimeError as error:
        server_log = log_file.read_text(errors="replace") if log_file.exists() else ""
        raise RuntimeError(f"{error}\nServer log:\n{server_log}") from error


def _give_to_server_user(folder: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_USER, SERVER_USER)


def _run(*command: object) -> None:
    """Run a PostgreSQL tool, as the postgres user when this process is root."""
    args = [str(part) for part in command]
    if os.geteuid() == 0:
        args = ["runuser", "-u", SERVER_USER, "--", *args]

    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
