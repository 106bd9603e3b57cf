"""DESIGN §4.1 as DuckDB macros: normalization and hashing run inside the query, over columns.

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
    or a combining mark: with DuckDB 2.0 and Python 3.11, ten marks added in Unicode 15. Takes
    about 0.1 s, once per process.
    """
    unassigned = [(first, min(last, 0x1FFFF)) for first, last in lookups.unicode_tables().unassigned if first <= 0x1FFFF]
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
# DuckDB expands a macro's body at each use and does not share repeated subexpressions inside CASE
# branches, so the macros are written as pipelines that read each intermediate value once. Where a
# value is needed twice it is bound with a one-element lambda, `list_transform([x], lambda y: ...)[1]`,
# whose body holds only small constants: a lambda body is re-initialised for every chunk of rows,
# which recompiles its regular expressions and rebuilds its MAP literals.

_MACROS = r"""
CREATE OR REPLACE TEMP MACRO pp__is_ascii(t) AS strlen(t) = length(t);

CREATE OR REPLACE TEMP MACRO pp__trim_ascii(t) AS CASE
    WHEN ord(t) > 32 AND ord(t[-1]) > 32 THEN t
    ELSE regexp_replace(t, <<TRIM_ASCII_WHITESPACE>>, '', 'g')
END;

CREATE OR REPLACE TEMP MACRO pp__trim_unicode(t) AS regexp_replace(t, <<TRIM_WHITESPACE>>, '', 'g');

CREATE OR REPLACE TEMP MACRO pp__nfc(t) AS <<NFC>>;

-- The final-sigma expression is large and costly: only text holding a capital sigma runs it.
-- `t` (the NFC'd and trimmed text) is computed once for every other text: it is bound by a
-- one-element lambda, and COALESCE evaluates its second argument only for the rows where the first
-- is NULL (a CASE over `t` evaluated it once per branch tried, three times for most texts).
CREATE OR REPLACE TEMP MACRO pp__lower_unicode(t) AS lower(coalesce(
    list_transform([t], lambda pp_u: CASE WHEN NOT contains(pp_u, chr(931)) THEN replace(pp_u, chr(304), 'i' || chr(775)) END)[1],
    replace(regexp_replace(t, <<FINAL_SIGMA>>, '\1' || chr(962) || '\2', 'g'), chr(304), 'i' || chr(775))
));

-- Step 1 (NFC, trim) and the forms the field rules start from: cleaned, cleaned and lowercased,
-- cleaned and lowercased with Unicode digits as ASCII digits.
CREATE OR REPLACE TEMP MACRO pp__cleaned(v) AS CASE
    WHEN pp__is_ascii(v) THEN pp__trim_ascii(v)
    ELSE pp__trim_unicode(pp__nfc(v))
END;

CREATE OR REPLACE TEMP MACRO pp__lowered(v) AS CASE
    WHEN pp__is_ascii(v) THEN lower(pp__trim_ascii(v))
    ELSE pp__lower_unicode(pp__trim_unicode(pp__nfc(v)))
END;

CREATE OR REPLACE TEMP MACRO pp__lowered_ascii_digits(v) AS CASE
    WHEN pp__is_ascii(v) THEN lower(pp__trim_ascii(v))
    ELSE <<FOLD_DIGITS_OF_LOWERED_UNICODE>>
END;

-- Step 2. NFC and trimming never turn other characters into whitespace or hex digits (tested),
-- so an already hashed value is recognised on the raw text.
CREATE OR REPLACE TEMP MACRO pp__sha256_hex(v) AS CASE
    WHEN strlen(v) >= 64 AND regexp_full_match(v, <<HEX_PADDED>>) THEN lower(regexp_extract(v, '[0-9a-fA-F]{64}'))
END;

-- `normalized` is never '' (the rules return NULL instead), so the hash of "" cannot be produced.
CREATE OR REPLACE TEMP MACRO pp__hash_or_passthrough(v, normalized) AS coalesce(pp__sha256_hex(v), sha256(normalized));

-- Step 3, on lowercased values. (nullif() and BETWEEN would evaluate their argument twice.)
-- A list, not IN: DuckDB plans a long IN list outside a lambda as a join, which loses the row order.
CREATE OR REPLACE TEMP MACRO pp__is_junk(l) AS list_contains([<<JUNK>>], l);

CREATE OR REPLACE TEMP MACRO pp__drop_junk(l) AS list_filter([l], lambda pp_l: NOT pp__is_junk(pp_l))[1];

CREATE OR REPLACE TEMP MACRO pp__nonempty(t) AS list_filter([t], lambda pp_t: pp_t <> '')[1];

-- Step 4, one rule per field.
CREATE OR REPLACE TEMP MACRO pp_normalize_em(v) AS pp__drop_junk(pp__lowered(v));
CREATE OR REPLACE TEMP MACRO pp_normalize_fn(v) AS pp__drop_junk(pp__lowered(v));
CREATE OR REPLACE TEMP MACRO pp_normalize_ln(v) AS pp__drop_junk(pp__lowered(v));
CREATE OR REPLACE TEMP MACRO pp_normalize_maid(v) AS pp__drop_junk(pp__lowered(v));

CREATE OR REPLACE TEMP MACRO pp_normalize_external_id(v) AS CASE
    WHEN NOT pp__is_junk(pp__lowered(v)) THEN pp__cleaned(v)
END;

CREATE OR REPLACE TEMP MACRO pp_normalize_ge(v) AS <<GENDER_CODES>>[pp__lowered(v)];

CREATE OR REPLACE TEMP MACRO pp_normalize_ct(v) AS
    pp__nonempty(regexp_replace(pp__drop_junk(pp__lowered(v)), <<NOT_LETTER_MARK_NUMBER>>, '', 'g'));

-- Dates: `YYYY-MM-DD` (optionally followed by a time, as DATE and TIMESTAMP casts print) or
-- `YYYYMMDD`, reduced to the eight digits, kept only when they are a date of the calendar.
CREATE OR REPLACE TEMP MACRO pp__valid_date(d) AS list_transform([d], lambda pp_d: CASE
    WHEN pp_d <> '' AND left(pp_d, 4) <> '0000'
     AND try_cast(left(pp_d, 4) || '-' || substr(pp_d, 5, 2) || '-' || substr(pp_d, 7, 2) AS DATE) IS NOT NULL
    THEN pp_d
END)[1];

CREATE OR REPLACE TEMP MACRO pp_normalize_db(v) AS pp__valid_date(regexp_extract(
    regexp_replace(pp__lowered_ascii_digits(v), '(?s)^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[t ][0-9].*)?$', '\1\2\3'),
    '^[0-9]{8}$'
));

CREATE OR REPLACE TEMP MACRO pp_country_code(v) AS
    (SELECT country_code FROM pp_country_names WHERE country_name = pp__lowered(v));

CREATE OR REPLACE TEMP MACRO pp_normalize_country(v) AS pp_country_code(v);

CREATE OR REPLACE TEMP MACRO pp_normalize_st(v, country) AS coalesce(
    (SELECT subdivision_code FROM pp_subdivision_names
      WHERE subdivision_country = coalesce(country, <<DEFAULT_SUBDIVISION_COUNTRY>>)
        AND subdivision_name = pp__lowered(v)),
    pp__drop_junk(pp__lowered(v))
);

-- ZIP codes. `f` is the lowercased value with ASCII digits.
CREATE OR REPLACE TEMP MACRO pp__is_us_zip(f) AS regexp_full_match(f, '[0-9]{5}(?:[ -]?[0-9]{4})?');

CREATE OR REPLACE TEMP MACRO pp__zip_is_us(f, country) AS
    coalesce(country = 'us', false) OR (country IS NULL AND pp__is_us_zip(f));

-- The ZIP rules on `f`, the lowercased value with ASCII digits. The `_of` macros take their
-- intermediate values as arguments, so that a query can compute those once in a column and call
-- them outside any lambda (a lambda compiles the regular expressions of its body for every chunk).
CREATE OR REPLACE TEMP MACRO pp__zp_normalized_of(f, country) AS pp__nonempty(CASE
    WHEN pp__is_junk(f) THEN NULL
    WHEN pp__zip_is_us(f, country) THEN CASE WHEN pp__is_us_zip(f) THEN left(f, 5) END
    ELSE regexp_replace(f, <<SPACE_OR_DASH>>, '', 'g')
END);

CREATE OR REPLACE TEMP MACRO pp__zp_warning_of(hashed, f, country) AS CASE
    WHEN NOT hashed AND NOT pp__is_junk(f) AND coalesce(country = 'us', false) AND NOT pp__is_us_zip(f)
    THEN <<ZIP_MALFORMED>>
END;

CREATE OR REPLACE TEMP MACRO pp_normalize_zp(v, country) AS
    list_transform([pp__lowered_ascii_digits(v)], lambda pp_f: pp__zp_normalized_of(pp_f, country))[1];

CREATE OR REPLACE TEMP MACRO pp_zp_warning(v, country) AS list_transform(
    [{'hashed': pp__sha256_hex(v) IS NOT NULL, 'f': pp__lowered_ascii_digits(v)}],
    lambda pp_z: pp__zp_warning_of(pp_z.hashed, pp_z.f, country)
)[1];

-- Phones, DESIGN §4.1 steps (1)-(4): `t` is the text after step (1), `r` the region's
-- `calling code|trunk prefix` (NULL when unknown), bound together as `pp_p` by the public macros.
CREATE OR REPLACE TEMP MACRO pp__phone_text(v) AS
    regexp_replace(pp__lowered_ascii_digits(v), '^(\+|00)([0-9]{1,3})[ .-]*\(0\)', '\1\2');

CREATE OR REPLACE TEMP MACRO pp__phone_region(region) AS <<PHONE_REGIONS>>[region];

CREATE OR REPLACE TEMP MACRO pp__phone_and_region(v, region) AS {'t': pp__phone_text(v), 'r': pp__phone_region(region)};

-- Separators written in phone numbers are removed with plain replace(); anything else with a regex.
CREATE OR REPLACE TEMP MACRO pp__phone_digits(t) AS CASE
    WHEN regexp_full_match(t, '[0-9 ()+./-]*')
    THEN replace(replace(replace(replace(replace(replace(replace(t, ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''), '.', ''), '/', '')
    ELSE regexp_replace(t, '[^0-9]+', '', 'g')
END;

CREATE OR REPLACE TEMP MACRO pp__phone_is_international(t) AS starts_with(t, '+') OR starts_with(t, '00');

-- Each branch reads the digits once; the branches never run for the same row.
CREATE OR REPLACE TEMP MACRO pp__phone_e164(t, r) AS CASE
    WHEN pp__phone_is_international(t) THEN ltrim(pp__phone_digits(t), '0')
    ELSE split_part(r, '|', 1) || CASE split_part(r, '|', 2)
        <<TRUNK_PREFIX_BRANCHES>>
        ELSE pp__phone_digits(t)
    END
END;

CREATE OR REPLACE TEMP MACRO pp__e164_length_ok(e164) AS coalesce(strlen(e164) IN (<<E164_LENGTHS>>), false);

CREATE OR REPLACE TEMP MACRO pp__e164_length_checked(e164) AS list_filter([e164], lambda pp_e: pp__e164_length_ok(pp_e))[1];

-- The phone rules on `t` and `r`, for a query that holds both in columns (see the ZIP macros).
CREATE OR REPLACE TEMP MACRO pp__ph_normalized_of(t, r) AS pp__e164_length_checked(pp__phone_e164(t, r));

CREATE OR REPLACE TEMP MACRO pp__ph_warning_of(hashed, t, r) AS CASE
    WHEN t IS NULL OR hashed OR NOT regexp_matches(t, '[0-9]') THEN NULL
    WHEN NOT pp__phone_is_international(t) AND r IS NULL THEN <<PHONE_WITHOUT_COUNTRY_CODE>>
    WHEN NOT pp__e164_length_ok(pp__phone_e164(t, r)) THEN <<PHONE_INVALID_LENGTH>>
END;

CREATE OR REPLACE TEMP MACRO pp_normalize_ph(v, region) AS
    list_transform([pp__phone_and_region(v, region)], lambda pp_p: pp__ph_normalized_of(pp_p.t, pp_p.r))[1];

CREATE OR REPLACE TEMP MACRO pp_ph_warning(v, region) AS list_transform(
    [{'hashed': pp__sha256_hex(v) IS NOT NULL, 't': pp__phone_text(v), 'r': pp__phone_region(region)}],
    lambda pp_p: pp__ph_warning_of(pp_p.hashed, pp_p.t, pp_p.r)
)[1];

CREATE OR REPLACE TEMP MACRO pp_distinct_hashes(hashes) AS list_transform(
    [hashes],
    lambda pp_all: nullif(list_filter(pp_all, lambda pp_h, pp_i: pp_h IS NOT NULL AND list_position(pp_all, pp_h) = pp_i), [])
)[1];
"""

_HASH_MACRO = """
CREATE OR REPLACE TEMP MACRO pp_hash_<<FIELD>>(<<PARAMS>>) AS
    pp__hash_or_passthrough(v, pp_normalize_<<FIELD>>(<<PARAMS>>))
"""
_HASHED_FIELDS = (
    ("em", "v"), ("fn", "v"), ("ln", "v"), ("maid", "v"), ("ge", "v"), ("db", "v"), ("ct", "v"),
    ("st", "v, country"), ("zp", "v, country"), ("country", "v"), ("external_id", "v"), ("ph", "v, region"),
)


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
    statements = [s.strip() for s in _fill(_MACROS, constants).split(";\n") if s.strip()]
    for field, params in _HASHED_FIELDS:
        statements.append(_fill(_HASH_MACRO, {"FIELD": field, "PARAMS": params}).strip())
    return tuple(statements)
