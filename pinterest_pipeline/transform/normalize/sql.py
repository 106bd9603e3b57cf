"""The identity normalization rules (docs/rules.md) as DuckDB macros, run inside the query over columns.

`install_normalize_macros(con)` creates, in the connection's temp schema (so a user's database file
is never written to, and each connection installs its own copy):

- lookup tables `pp_country_names` and `pp_subdivision_names` (from `lookups`);
- `pp_hash_<field>(v[, country|region])`: the digest to send, or NULL when the value is dropped;
- `pp_normalize_<field>(...)`: the plaintext that digest is taken of (for tests and debugging;
  never select it into anything that leaves the database);
- `pp_country_code`, `pp_ph_warning`, `pp_zp_warning`, `pp_distinct_hashes`.

They are byte-identical to `normalize.reference` (property-tested). How the SQL stays identical
although DuckDB's string functions are not Python's:

- ASCII values (nearly all of them) take a fast branch: trimmed only when they start or end with a
  control or space character, then DuckDB's `lower`, which equals `str.lower()` on ASCII. Other
  values take the Unicode branch below.
- `lower()`: DuckDB agrees with `str.lower()` on every single code point except U+0130 `İ`
  (Python: `i` + U+0307) and has no final-sigma rule. The Unicode branch replaces `İ` first and
  turns a capital sigma in final position into `ς` by a regular expression built from the cased and
  case-ignorable characters as `str.lower()` itself classifies them.
- `trim()`: DuckDB's one-argument `trim` removes only spaces (and `trim(v, characters)` is slow);
  both paths strip `lookups.WHITESPACE`, exactly what `str.strip()` strips, the SQL with a regex.
- `nfc_normalize()`: DuckDB's Unicode data is newer than Python 3.11's. Code points this Python
  does not know may be combining marks to DuckDB (ten marks of Unicode 15, found by probing DuckDB
  once per process) and get reordered or composed; to Python they are inert. DuckDB's function also
  stops at U+0000. A value containing one of these is normalized piecewise around them, which is
  exactly what Python's NFC does with them.
- DuckDB shares repeated subexpressions only at the top of a projection, not inside CASE branches
  or lambdas, and a lambda body is set up again for every chunk of rows (recompiling its regular
  expressions, rebuilding its MAP literals); see the note above the macros.

Only `pp_hash_ph`, `pp_ph_warning` and the other per-value macros without a table lookup may be
used inside a lambda (`list_transform`); `pp_country_code`, `pp_hash_country`, `pp_hash_st` and
their `pp_normalize_` twins look names up in the tables with a subquery.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import duckdb

from pinterest_pipeline.event_fields import HASHED_FIELDS
from pinterest_pipeline.support.package_files import sql_template
from pinterest_pipeline.transform.normalize import lookups
from pinterest_pipeline.transform.normalize.macro_cache import cached_statements
from pinterest_pipeline.transform.normalize.reference import (
    E164_MAX_DIGITS,
    E164_MIN_DIGITS,
    PHONE_INVALID_LENGTH,
    PHONE_WITHOUT_COUNTRY_CODE,
    ZIP_MALFORMED,
)

COUNTRY_NAMES_TABLE = "pp_country_names"
SUBDIVISION_NAMES_TABLE = "pp_subdivision_names"


def install_normalize_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the lookup tables and macros in `con`'s temp schema. Idempotent."""
    countries = lookups.country_codes_by_name()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {COUNTRY_NAMES_TABLE} AS "
        "SELECT unnest($names) AS country_name, unnest($codes) AS country_code",
        {"names": list(countries), "codes": list(countries.values())},
    )
    subdivisions = lookups.subdivision_codes_by_name()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SUBDIVISION_NAMES_TABLE} AS "
        "SELECT unnest($countries) AS subdivision_country, unnest($names) AS subdivision_name, "
        "unnest($codes) AS subdivision_code",
        {
            "countries": [country for country, _ in subdivisions],
            "names": [name for _, name in subdivisions],
            "codes": list(subdivisions.values()),
        },
    )
    for statement in _macro_statements():
        con.execute(statement)


# -- SQL literals built from the lookup tables ---------------------------------------------------


def _string(text: str) -> str:
    """A SQL string literal; control and whitespace characters other than space are spelled chr(n)."""
    parts, plain = [], []
    for ch in text:
        if ch == " " or (ch.isprintable() and not ch.isspace()):
            plain.append("''" if ch == "'" else ch)
            continue
        if plain:
            parts.append("'" + "".join(plain) + "'")
            plain = []
        parts.append(f"chr({ord(ch)})")
    if plain or not parts:
        parts.append("'" + "".join(plain) + "'")
    return " || ".join(parts)


def _char_class(ranges: Iterable[tuple[int, int]], *, negate: bool = False) -> str:
    """An RE2 character class of code point ranges (RE2's own Unicode tables are not Python's)."""
    items = "".join(
        f"\\x{{{first:X}}}" if first == last else f"\\x{{{first:X}}}-\\x{{{last:X}}}" for first, last in ranges
    )
    return f"[{'^' if negate else ''}{items}]"


def _points(text: str) -> list[tuple[int, int]]:
    return [(ord(ch), ord(ch)) for ch in sorted(set(text))]


def _in_list(values: Iterable[str]) -> str:
    return ", ".join(_string(value) for value in sorted(values))


def _constants() -> dict[str, str]:
    tables = lookups.unicode_tables()
    whitespace = _char_class(_points(lookups.WHITESPACE))
    ascii_whitespace = _char_class(_points(lookups.ASCII_WHITESPACE))
    cased = _char_class(tables.cased)
    ignorable = _char_class(tables.case_ignorable)
    neither = _char_class(tables.cased + tables.case_ignorable, negate=True)
    regions = lookups.phone_regions()
    return {
        "TRIM_WHITESPACE": f"'^{whitespace}+|{whitespace}+$'",
        "TRIM_ASCII_WHITESPACE": f"'^{ascii_whitespace}+|{ascii_whitespace}+$'",
        "FOLD_DIGITS_OF_LOWERED_UNICODE": _fold_digits_sql(
            tables.digit_values, "pp__lower_unicode(pp__trim_unicode(pp__nfc(v)))"
        ),
        "HEX_PADDED": f"'{whitespace}*[0-9a-fA-F]{{64}}{whitespace}*'",
        # DuckDB's nfc_normalize also stops at U+0000 (C string), which NFC leaves alone.
        "NFC": _nfc_sql(((0, 0),) + duckdb_only_combining_code_points()),
        "FINAL_SIGMA": f"'({cased}{ignorable}*)\u03a3({ignorable}*(?:{neither}|$))'",
        "NOT_LETTER_MARK_NUMBER": f"'{_char_class(tables.letters_marks_numbers, negate=True)}'",
        "SPACE_OR_DASH": f"'{_char_class(sorted(_points(lookups.WHITESPACE) + list(tables.dashes)))}'",
        "JUNK": _in_list(lookups.JUNK_VALUES),
        "GENDER_CODES": "MAP {"
        + ", ".join(f"{_string(spelling)}: {_string(code)}" for spelling, code in lookups.GENDER_CODES.items())
        + "}",
        "PHONE_REGIONS": "MAP {"
        + ", ".join(f"'{code}': '{region.calling_code}|{region.trunk_prefix}'" for code, region in regions.items())
        + "}",
        "TRUNK_PREFIX_BRANCHES": "\n        ".join(
            f"WHEN '{prefix}' THEN regexp_replace(pp__phone_digits(t), '^{prefix}', '')"
            for prefix in sorted({region.trunk_prefix for region in regions.values()} - {""})
        ),
        "E164_LENGTHS": ", ".join(str(n) for n in range(E164_MIN_DIGITS, E164_MAX_DIGITS + 1)),
        "PHONE_WITHOUT_COUNTRY_CODE": _string(PHONE_WITHOUT_COUNTRY_CODE),
        "PHONE_INVALID_LENGTH": _string(PHONE_INVALID_LENGTH),
        "ZIP_MALFORMED": _string(ZIP_MALFORMED),
        "DEFAULT_SUBDIVISION_COUNTRY": _string(lookups.DEFAULT_SUBDIVISION_COUNTRY),
    }


@cache
def duckdb_only_combining_code_points() -> lookups.CodePointRanges:
    """Code points this Python's Unicode database does not know but DuckDB's `nfc_normalize` does.

    Found by asking DuckDB: each code point unassigned for Python in planes 0, 1 and 14 (planes 2
    and 3 hold unified ideographs, which never decompose or combine) is normalized alone, before a
    combining mark of class 1 and after one of class 230, behind a `q` (which composes with
    neither). Where DuckDB changes the text, it knows the code point as a decomposable character
    or a combining mark: with DuckDB 2.0 and Python 3.11, ten marks added in Unicode 15. Runs
    once per process.
    """
    unassigned = [
        (first, min(last, 0x1FFFF)) for first, last in lookups.unicode_tables().unassigned if first <= 0x1FFFF
    ]
    unassigned += [(first, last) for first, last in lookups.unicode_tables().unassigned if 0xE0000 <= first <= 0xEFFFF]
    with duckdb.connect() as probe:
        rows = probe.execute(
            """
            WITH spans AS (SELECT unnest($firsts) AS first_cp, unnest($lasts) AS last_cp),
            probes AS (SELECT chr(CAST(unnest(range(first_cp, last_cp + 1)) AS INTEGER)) AS x FROM spans)
            SELECT ord(x) FROM probes
            WHERE nfc_normalize(x) <> x
               OR nfc_normalize('q' || x || chr(820)) <> 'q' || x || chr(820)
               OR nfc_normalize('q' || chr(769) || x) <> 'q' || chr(769) || x
            ORDER BY 1
            """,
            {"firsts": [first for first, _ in unassigned], "lasts": [last for _, last in unassigned]},
        ).fetchall()
    return lookups.merge_ranges([(cp, cp) for (cp,) in rows])


def _nfc_sql(barriers: lookups.CodePointRanges) -> str:
    """NFC of `t` as Python computes it: piecewise around `barriers`, which Python treats as inert."""
    barrier = _char_class(barriers)
    return f"""CASE
    WHEN NOT regexp_matches(t, '{barrier}') THEN nfc_normalize(t)
    ELSE array_to_string(list_transform(
        regexp_extract_all(t, '{barrier}|{_char_class(barriers, negate=True)}+'),
        lambda pp_piece: CASE WHEN regexp_full_match(pp_piece, '{barrier}') THEN pp_piece
                              ELSE nfc_normalize(pp_piece) END
    ), '')
END"""


def _fold_digits_sql(digit_values: dict[str, str], text: str) -> str:
    """Nested `regexp_replace` calls over `text`, one per ASCII result, e.g. all Unicode sevens -> `7`."""
    expression = text
    for ascii_char in sorted(set(digit_values.values())):
        sources = "".join(ch for ch, value in digit_values.items() if value == ascii_char)
        expression = f"regexp_replace({expression}, '{_char_class(_points(sources))}', '{ascii_char}', 'g')"
    return expression


# -- the macros ----------------------------------------------------------------------------------
#
# The templates live in `macros.sql` and `hash_macro.sql` beside this module (see their opening
# comments); their `<<NAME>>` placeholders take the literals of `_constants()`.

_MACROS_FILE = "macros.sql"
_HASH_MACRO_FILE = "hash_macro.sql"


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(f"<<{name}>>", value)
    if "<<" in template:
        raise AssertionError(f"unfilled placeholder in {template[:80]!r}")
    return template


@cache
def _macro_statements() -> tuple[str, ...]:
    return cached_statements(_build_macro_statements)


def _build_macro_statements() -> tuple[str, ...]:
    constants = _constants()
    macros = sql_template(__package__, _MACROS_FILE)
    statements = [s.strip() for s in _fill(macros, constants).split(";\n") if s.strip()]
    hash_macro = sql_template(__package__, _HASH_MACRO_FILE)
    for field in HASHED_FIELDS:
        params = "v" if field.region_parameter is None else f"v, {field.region_parameter}"
        statements.append(_fill(hash_macro, {"FIELD": field.macro, "PARAMS": params}).strip())
    return tuple(statements)
