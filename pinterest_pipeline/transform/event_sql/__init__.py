"""The SQL that turns contract rows into Pinterest events or reject reasons (docs/rules.md).

The queries are generated from the columns the source has and their kinds (`contract.SourceColumns`),
so an absent column costs nothing and every type gets the cast it needs. Only column names from the
contract and fixed SQL are written into the text; every configured value is a bound `$parameter`.

A transform runs two queries over the source, each one streaming pipeline of scans, filters and
projections (no join, which would lose the input order), so rows keep their input order without a
sort and nothing wide is ever copied:

- the row checks (`build_row_check_query`), one narrow row per source row: `source_row`, event_id,
  the mapped event name, the reject `reason` (the first rule that fails, in `REJECT_REASONS`
  order), its `detail` and the `partition_day`. The in-run duplicates and the rejects come from
  these rows;
- the events (`build_event_json_query`), for the rows without a reason: every value normalized
  (identity hashed by the `pp_hash_*` macros), the warnings and the event JSON. It is the bulk of
  the work and of the bytes, and is either stored or streamed to a file.

Both number the rows by their position in the source (`source_row`, from 1) and compute a row's
reason with the same SQL, so they agree on every row. The stages of a query, one module each:

- `fields`: `numbered` (the contract columns with `source_row` and the row's resolved country,
  `region`, that phone, state and ZIP normalization need), `prepared` (values the phone and ZIP
  rules read several times) and `fields` (every value normalized, the event name mapped);
- `rules`: the reject reason and its detail, the warnings, the final currency;
- `event_json`: the event as JSON text;
- `queries`: the two queries composed from those stages.

Every stage function takes the `context.QueryContext` of the query being generated.
"""

from pinterest_pipeline.transform.event_sql.queries import (
    ROW_CHECK_FIELDS,
    RowCheckQuery,
    build_event_json_query,
    build_row_check_query,
)
from pinterest_pipeline.transform.event_sql.rules import REJECT_REASONS

__all__ = ["REJECT_REASONS", "ROW_CHECK_FIELDS", "RowCheckQuery", "build_event_json_query", "build_row_check_query"]
