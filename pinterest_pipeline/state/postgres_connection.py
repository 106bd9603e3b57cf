"""Connecting to the PostgreSQL state: one short attempt, one clear line, never the password.

A state URL is `postgresql://user:password@host:port/database` (or anything libpq accepts). Every
message names the store as `postgresql://host:port/database`. A connection attempt gives up after
`CONNECT_TIMEOUT_S` and is never repeated: an unreachable server or a refused password fails the
step at once instead of piling up retries against the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinterest_pipeline.state.base import StateError

CONNECT_TIMEOUT_S = 5
_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(state: object) -> bool:
    return isinstance(state, str) and state.startswith(_SCHEMES)


@dataclass(frozen=True)
class PostgresLocation:
    """A state URL, parsed once; `str()` and `repr()` leave the password out."""

    url: str
    host: str
    port: str
    database: str
    password: str | None

    @classmethod
    def parse(cls, url: str) -> PostgresLocation:
        import psycopg.conninfo

        try:
            parts = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise StateError(
                "the PostgreSQL state URL cannot be parsed (expected postgresql://user:password@host:port/database)"
            ) from None
        return cls(
            url=url,
            host=str(parts.get("host") or "localhost"),
            port=str(parts.get("port") or "5432"),
            database=str(parts.get("dbname") or parts.get("user") or "postgres"),
            password=str(parts["password"]) if parts.get("password") else None,
        )

    @property
    def display_name(self) -> str:
        return f"postgresql://{self.host}:{self.port}/{self.database}"

    def __str__(self) -> str:
        return self.display_name

    def __repr__(self) -> str:
        return f"PostgresLocation({self.display_name!r})"

    def redact(self, text: str) -> str:
        return text.replace(self.password, "***") if self.password else text

    def error(self, doing: str, exc: BaseException) -> StateError:
        """One line: what failed, where, and why (libpq's reason, shortened, password masked)."""
        return StateError(f"{doing} the PostgreSQL state {self.display_name}: {self.reason(exc)}")

    def reason(self, exc: BaseException) -> str:
        text = self.redact(str(exc)).strip()
        lowered = text.lower()
        if "password authentication failed" in lowered or "no password supplied" in lowered:
            return "the server refused the user or password"
        if "does not exist" in lowered and "database" in lowered:
            return f'database "{self.database}" does not exist'
        if "connection refused" in lowered:
            return "connection refused (is the server running, and on this port?)"
        if "timeout expired" in lowered or "timed out" in lowered:
            return f"no answer within {CONNECT_TIMEOUT_S} s"
        line = text.splitlines()[0] if text else type(exc).__name__
        return line.removeprefix("connection failed: ")

    def connect(self, *, autocommit: bool = True):
        """A psycopg connection (autocommit unless asked otherwise)."""
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise self.error("cannot connect to", exc) from None

    def connect_bulk(self):
        """An ADBC connection (Arrow in and out of the server, in binary COPY), not autocommit."""
        import adbc_driver_postgresql.dbapi as adbc
        import psycopg.conninfo

        conninfo = psycopg.conninfo.make_conninfo(self.url, connect_timeout=CONNECT_TIMEOUT_S)
        try:
            return adbc.connect(conninfo)
        except Exception as exc:  # the ADBC driver raises its own DB-API error classes
            raise self.error("cannot connect to", exc) from None
