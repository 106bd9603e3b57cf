"""A throwaway PostgreSQL 15 cluster for the tests: initdb in a temporary directory, a random port.

The base image has Debian's `postgresql-15` binaries but no running server. initdb refuses to run as
root, so when the tests run as root the cluster belongs to the `postgres` system user and every
server command runs through `runuser -u postgres --`. The password is random per cluster and is
only ever passed in URLs built here, so tests can assert it never leaks.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port

PG_BIN = Path(os.environ.get("PINTEREST_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"


def postgres_available() -> str | None:
    """None when a cluster can be started here, else the reason it cannot."""
    for tool in ("initdb", "pg_ctl"):
        if not (PG_BIN / tool).exists():
            return f"PostgreSQL binaries not found in {PG_BIN} (install postgresql-15)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb refuses root"
    return None


@dataclass
class PostgresServer:
    """One running cluster; `url(db)` gives a `postgresql://` URL with the superuser's password."""

    root: Path
    port: int
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    host: str = "127.0.0.1"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else list(command)

    def start(self) -> PostgresServer:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, SUPERUSER, SUPERUSER)
        password_file = self.root / "pwfile"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(password_file, SUPERUSER, SUPERUSER)
        subprocess.run(
            self._as_owner(
                str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=scram-sha-256",
                f"--pwfile={password_file}", "--encoding=UTF8", "--locale=C.UTF-8",
            ),
            check=True, capture_output=True,
        )
        password_file.unlink()
        options = f"-c listen_addresses={self.host} -p {self.port} -k {self.root} -c max_connections=200 -c fsync=off"
        subprocess.run(
            self._as_owner(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                "-o", options, "-w", "-t", "60", "start",
            ),
            check=True, capture_output=True,
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            self._as_owner(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
            capture_output=True,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or f"db_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_postgres(root: Path | None = None) -> PostgresServer:
    root = root or Path(tempfile.mkdtemp(prefix="pinterest-pg-"))
    server = PostgresServer(root=root, port=free_port())
    deadline = time.monotonic() + 5
    while True:
        try:
            return server.start()
        except subprocess.CalledProcessError:
            # A port taken between choosing and binding: try another once or twice.
            if time.monotonic() > deadline:
                raise
            server = PostgresServer(root=Path(tempfile.mkdtemp(prefix="pinterest-pg-")), port=free_port())
