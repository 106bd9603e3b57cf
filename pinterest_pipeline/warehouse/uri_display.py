"""Showing a warehouse URI without its secrets, and taking secrets out of error text.

A URI names where the data is (`postgresql://user@host:5432/db`), which belongs in every error
and in the Dagster UI; its password, and query parameters such as `password=` or a token, never
do. Drivers sometimes echo the connection string in their errors, so an error's text is scrubbed
of the secret values too, not only of the URI as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

REDACTED = "***"
# Connection-string keys that hold credentials (libpq's key=value form, query parameters).
_SECRET_KEYS = re.compile(r"pass|pwd|secret|token|credential|private|api_?key|access_?key", re.IGNORECASE)
_USERINFO = re.compile(r"^(?P<user>[^:@/]*)(?::(?P<password>[^@]*))?@(?P<rest>.*)$", re.DOTALL)


def display_uri(uri: str) -> str:
    """`uri` as it may be shown: user, host, port and path; no password, no query parameters.

    URL forms (`postgresql://u:p@h:5432/db?sslmode=require`) keep scheme, user, host, port and path;
    Snowflake's `user:password@account/db/schema?warehouse=w` keeps `user@account/db/schema`;
    libpq's `host=h dbname=d password=p` keeps its keys that hold no credential; a file path is
    shown as it is.
    """
    uri = uri.strip()
    if "://" in uri:
        parts = urlsplit(uri)
        netloc = parts.hostname or ""
        if ":" in netloc:  # an IPv6 address
            netloc = f"[{netloc}]"
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is not None:
            netloc += f":{port}"
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        return f"{parts.scheme}://{netloc}{parts.path}"
    without_query = uri.split("?", 1)[0]
    userinfo = _USERINFO.match(without_query)
    if userinfo and "=" not in without_query and "/" not in userinfo.group("user"):
        return f"{userinfo.group('user')}@{userinfo.group('rest')}"
    # `md:shop`, `postgres:dbname=shop`, `sqlite:/data/x.db`: DuckDB's attach prefixes stay.
    prefix = re.match(r"^[A-Za-z][A-Za-z0-9_]*:", without_query)
    prefix_text = prefix.group(0) if prefix else ""
    rest = uri[len(prefix_text) :]
    if "=" in rest.split("?", 1)[0]:
        pairs = re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", rest)
        return prefix_text + " ".join(f"{key}={value}" for key, value in pairs if not _SECRET_KEYS.search(key))
    return without_query


def secrets_in_uri(uri: str) -> list[str]:
    """The values in `uri` that must not appear in any output: its password and every query or
    key=value parameter whose name speaks of a credential, raw and percent-decoded."""
    found: list[str] = []
    text = uri.strip()
    candidate = text.split("://", 1)[1] if "://" in text else text
    userinfo = _USERINFO.match(candidate.split("/", 1)[0] if "://" in text else candidate.split("?", 1)[0])
    if userinfo and userinfo.group("password"):
        found.append(userinfo.group("password"))
    query = text.split("?", 1)[1] if "?" in text else ""
    found.extend(value for key, value in parse_qsl(query, keep_blank_values=False) if _SECRET_KEYS.search(key))
    for key, value in re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)", text.split("?", 1)[0]):
        if _SECRET_KEYS.search(key):
            found.append(value.strip("'"))
    return _with_decoded(found)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret replaced by `***` (longest first, so a secret
    that contains another is hidden whole)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _with_decoded(values: list[str]) -> list[str]:
    expanded = []
    for value in values:
        expanded.append(value)
        decoded = unquote(value)
        if decoded != value:
            expanded.append(decoded)
    return expanded
