"""Loading an EVENTS.ndjson file (one event per line, exactly as sent) into an events table.

The lines are read by DuckDB as raw text and kept byte for byte as `event_json`; only the key
fields are extracted with JSON functions. The file can be far larger than memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pinterest_pipeline.config import PipelineConfig
from pinterest_pipeline.delivery.ledger import run_sql
from pinterest_pipeline.errors import InputError
from pinterest_pipeline.support.sql_identifiers import qualified_name
from pinterest_pipeline.support.storage import column_definitions

_EVENTS_COLUMNS = {
    "source_row": "BIGINT",
    "event_id": "VARCHAR",
    "event_name": "VARCHAR",
    "event_time": "BIGINT",
    "partition_day": "DATE",
    "action_source": "VARCHAR",
    "event_json": "VARCHAR",
}


@dataclass(frozen=True)
class NdjsonLoad:
    events: int  # events in the table
    duplicates: int  # lines repeating an earlier line's (event_id, event_name), left out


def load_ndjson_events(
    con: duckdb.DuckDBPyConnection, path: str | Path, table: str, config: PipelineConfig
) -> NdjsonLoad:
    """(Re)create `table` with the events-table columns from an NDJSON file of Pinterest events.

    Raises InputError naming the file and the first bad line (not a JSON object, or no event_id,
    event_name or integer event_time); nothing is created then.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    target = qualified_name(table)
    staging = qualified_name(f"{table}__loading")
    # A JSON text never holds a raw control character, so \x01 as "delimiter" keeps each line whole.
    try:
        run_sql(
            con,
            f"""
            CREATE OR REPLACE TEMP TABLE {staging} AS
            SELECT row_number() OVER () AS line_number, line
            FROM read_csv($path, columns = {{'line': 'VARCHAR'}}, delim = chr(1), quote = '', escape = '',
                          header = false, auto_detect = false, new_line = '\\n', strict_mode = false)
            """,
            {"path": str(path)},
        )
    except duckdb.Error as error:
        raise InputError(f"{path}: cannot be read as text lines ({error})") from None
    try:
        bad = con.execute(
            f"""
            SELECT line_number,
                   CASE WHEN NOT json_valid(line) OR json_type(line) <> 'OBJECT' THEN 'is not a JSON object'
                        WHEN json_extract_string(line, '$.event_id') IS NULL THEN 'has no event_id'
                        WHEN json_extract_string(line, '$.event_name') IS NULL THEN 'has no event_name'
                        ELSE 'has no integer event_time' END
            FROM {staging}
            WHERE trim(line) <> ''
              AND (NOT json_valid(line) OR json_type(line) <> 'OBJECT'
                   OR json_extract_string(line, '$.event_id') IS NULL
                   OR json_extract_string(line, '$.event_name') IS NULL
                   OR json_type(line, '$.event_time') IS DISTINCT FROM 'BIGINT'
                      AND json_type(line, '$.event_time') IS DISTINCT FROM 'UBIGINT')
            ORDER BY line_number LIMIT 1
            """
        ).fetchone()
        if bad:
            raise InputError(f"{path}: line {bad[0]} {bad[1]}")
        con.execute(f"CREATE OR REPLACE TABLE {target} ({column_definitions(con, _EVENTS_COLUMNS)})")
        run_sql(
            con,
            f"""
            INSERT INTO {target}
            SELECT line_number AS source_row,
                   json_extract_string(line, '$.event_id') AS event_id,
                   json_extract_string(line, '$.event_name') AS event_name,
                   CAST(json_extract(line, '$.event_time') AS BIGINT) AS event_time,
                   CAST(to_timestamp(CAST(json_extract(line, '$.event_time') AS BIGINT)) AT TIME ZONE $tz AS DATE)
                       AS partition_day,
                   json_extract_string(line, '$.action_source') AS action_source,
                   line AS event_json
            FROM {staging}
            WHERE trim(line) <> ''
            QUALIFY row_number() OVER (PARTITION BY event_id, event_name ORDER BY line_number) = 1
            ORDER BY line_number
            """,
            {"tz": config.partition_timezone},
        )
        lines = con.execute(f"SELECT count(*) FROM {staging} WHERE trim(line) <> ''").fetchone()[0]
        events = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staging}")
    return NdjsonLoad(events=events, duplicates=lines - events)
