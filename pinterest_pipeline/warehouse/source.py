"""`WarehouseSource`: where the extract SQL reads from (docs/warehouses.md).

One of four kinds, told apart by the keys given:

- `{path: FILE}`: a DuckDB file, ATTACHed READ_ONLY as `warehouse`;
- `{}`: DuckDB SQL that reads Parquet, CSV or JSON files itself (`read_parquet('orders/*.parquet')`),
  relative paths resolving against the SQL file's directory;
- `{attach: TARGET, setup: [...]}`: anything DuckDB attaches (`md:shop`, `postgres:dbname=shop`,
  `s3://bucket/shop.duckdb`), attached READ_ONLY as `warehouse` after the setup statements ran
  (`LOAD httpfs`, `CREATE OR REPLACE SECRET ...`); `setup` also goes with `{}` and `{path}`;
- `{adbc_driver: postgresql, uri_env: VAR}`: any database with an ADBC driver, the URI read from
  the environment variable `VAR` (default `PINTEREST_WAREHOUSE_URI`) when the extract runs.

Secrets come from the environment only. In `attach` and `setup`, `${NAME}` is replaced by the
variable's value when the extract runs: in `attach` as it is; in a setup statement as a string
literal (`KEY_ID ${AWS_ACCESS_KEY_ID}` becomes `KEY_ID '...'`, quotes doubled), or, written inside
a literal (`'s3://${BUCKET}/x'`), as that literal's text. Expanded values appear in no error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pinterest_pipeline.config import ConfigError
from pinterest_pipeline.errors import InputError
from pinterest_pipeline.warehouse.uri_display import display_uri

DEFAULT_URI_ENV = "PINTEREST_WAREHOUSE_URI"
WAREHOUSE_ALIAS = "warehouse"

SourceKind = Literal["duckdb_file", "duckdb_files", "duckdb_attach", "adbc"]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DRIVER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class WarehouseError(InputError):
    """The warehouse cannot be read: its message names the source (`describe()`), never a secret."""


class WarehouseSource(BaseModel):
    """Where the extract SQL reads from; see the module docstring for the four kinds.

    Examples:
        .. code-block:: python

            WarehouseSource(path="shop.duckdb")
            WarehouseSource()  # the SQL reads Parquet/CSV/JSON files itself
            WarehouseSource(attach="md:shop", setup=["SET motherduck_token = ${MOTHERDUCK_TOKEN}"])
            WarehouseSource(adbc_driver="postgresql")  # URI in $PINTEREST_WAREHOUSE_URI
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(None, description="A DuckDB file, attached READ_ONLY as `warehouse`.")
    attach: str | None = Field(
        None,
        description=(
            "What DuckDB ATTACHes READ_ONLY as `warehouse` (md:db, postgres:..., s3://.../x.duckdb);"
            " ${NAME} reads the environment."
        ),
    )
    setup: tuple[str, ...] = Field(
        (),
        description=(
            "DuckDB statements run before every extract (LOAD, SET, CREATE OR REPLACE SECRET);"
            " ${NAME} reads the environment."
        ),
    )
    adbc_driver: str | None = Field(
        None,
        description="ADBC driver (postgresql, sqlite, snowflake, bigquery, ...): the SQL runs in the warehouse itself.",
    )
    uri_env: str | None = Field(
        None, description=f"Environment variable holding the ADBC URI (default {DEFAULT_URI_ENV})."
    )

    @field_validator("path", "attach", "adbc_driver", "uri_env")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("adbc_driver")
    @classmethod
    def _driver_name(cls, value: str | None) -> str | None:
        if value is not None and not _DRIVER_NAME.match(value):
            raise ValueError(f"not a driver name: {value!r} (e.g. postgresql, sqlite, snowflake, bigquery)")
        return value

    @field_validator("uri_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"not an environment variable name: {value!r}")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> WarehouseSource:
        if self.path is not None and self.attach is not None:
            raise ValueError("give 'path' or 'attach', not both")
        if self.adbc_driver is not None:
            given = [key for key in ("path", "attach", "setup") if getattr(self, key)]
            if given:
                raise ValueError(f"'{given[0]}' is for DuckDB sources; an 'adbc_driver' source takes only 'uri_env'")
        elif self.uri_env is not None:
            raise ValueError("'uri_env' needs 'adbc_driver'")
        return self

    @classmethod
    def parse(cls, values: dict) -> WarehouseSource:
        """Build from configuration (YAML, TOML, run config); an invalid key fails naming it."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            if first["type"] == "extra_forbidden":
                message = "unknown key (known: path, attach, setup, adbc_driver, uri_env)"
            where = f"warehouse key '{key}'" if key else "warehouse"
            raise ConfigError(f"invalid {where}: {message}") from None

    @classmethod
    def from_cli_options(
        cls, warehouse: str | Path | None = None, warehouse_adbc: str | None = None
    ) -> WarehouseSource:
        """The source `transform --warehouse FILE` / `--warehouse-adbc DRIVER` / neither names."""
        if warehouse is not None and warehouse_adbc is not None:
            raise ConfigError("give --warehouse or --warehouse-adbc, not both")
        if warehouse is not None:
            return cls.parse({"path": str(warehouse)})
        if warehouse_adbc is not None:
            return cls.parse({"adbc_driver": warehouse_adbc})
        return cls()

    @property
    def kind(self) -> SourceKind:
        if self.adbc_driver is not None:
            return "adbc"
        if self.path is not None:
            return "duckdb_file"
        if self.attach is not None:
            return "duckdb_attach"
        return "duckdb_files"

    @property
    def uri_variable(self) -> str:
        """The environment variable an ADBC source reads its URI from."""
        return self.uri_env or DEFAULT_URI_ENV

    def describe(self) -> str:
        """A one-line name for errors, logs and the UI; never a password or token.

        A DuckDB file is its path; an ADBC source its URI without credentials
        (`postgresql://user@host:5432/db`), or the variable's name while it is unset.
        """
        if self.kind == "duckdb_file":
            return str(self.path)
        if self.kind == "duckdb_files":
            return "files read by the extract SQL"
        if self.kind == "duckdb_attach":
            # Unexpanded: a ${NAME} shows as written, never as its value.
            return display_uri(str(self.attach))
        uri = os.environ.get(self.uri_variable, "").strip()
        if not uri:
            return f"{self.adbc_driver} (${self.uri_variable})"
        shown = display_uri(uri)
        return shown if "://" in shown else f"{self.adbc_driver}:{shown}"
