"""Properties of the identity normalization (docs/rules.md#identity-normalization).

1. The DuckDB macros and the reference normalizer agree byte for byte on any text: arbitrary Unicode,
   and values built to hit the hard parts (case mapping, final sigma, whitespace of every kind,
   placeholders, hashes, phones, dates, ZIP codes), in every field and warning.
2. `phonenumbers` as an oracle: a valid number written in its national form (with its region) or in
   an international form normalizes to its E.164 digits.
3. The facts the SQL path relies on hold for every code point of this Python and DuckDB.

Each hypothesis example is a list of values checked in one SQL query, which keeps the suite fast.
"""

from __future__ import annotations

import unicodedata

import duckdb
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from pinterest_pipeline.transform.normalize import lookups, reference
from pinterest_pipeline.transform.normalize.sql import install_normalize_macros

PROPERTY_SETTINGS = settings(
    deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

REGIONS = [None, "us", "gb", "it", "ru", "hu", "jp", "de", "ca", "fr", "zz"]

# (macro / reference function, takes the region or country)
HASHES = [
    ("hash_em", False), ("hash_fn", False), ("hash_ln", False), ("hash_ge", False), ("hash_db", False),
    ("hash_ct", False), ("hash_country", False), ("hash_external_id", False), ("hash_maid", False),
    ("hash_st", True), ("hash_zp", True), ("hash_ph", True), ("zp_warning", True), ("ph_warning", True),
    ("country_code", False),
]


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    install_normalize_macros(connection)
    yield connection
    connection.close()


def run_sql(con, values: list[str | None], contexts: list[str | None]) -> list[tuple]:
    columns = ", ".join(
        f"pp_{name}(v, c)" if with_context else f"pp_{name}(v)" for name, with_context in HASHES
    )
    return con.execute(
        f"SELECT {columns} FROM (SELECT unnest($values) AS v, unnest($contexts) AS c, unnest(range(len($values))) AS i) ORDER BY i",
        {"values": values, "contexts": contexts},
    ).fetchall()


def run_reference(value: str | None, context: str | None) -> tuple:
    return tuple(
        getattr(reference, name)(value, context) if with_context else getattr(reference, name)(value)
        for name, with_context in HASHES
    )


def assert_paths_agree(con, pairs: list[tuple[str | None, str | None]]) -> None:
    values = [value for value, _ in pairs]
    contexts = [context for _, context in pairs]
    for (value, context), sql_row in zip(pairs, run_sql(con, values, contexts)):
        expected = run_reference(value, context)
        for (name, _), got, want in zip(HASHES, sql_row, expected):
            assert got == want, f"{name}({value!r}, {context!r}): SQL {got!r} != reference {want!r}"


# -- values that exercise the rules ---------------------------------------------------------------

TRICKY = (
    "ΣσςΑΩΟΔΥΕ"  # Greek, sigma forms
    "İIıiKkK"  # dotted/dotless i, Kelvin sign
    "ßẞǅǄǆ"  # sharp s, digraphs
    "éeÉ\u0301\u0300\u0316\u0334\u0345\u0307"  # precomposed and combining marks
    "'.:·’\u00ad\u200d"  # case-ignorable punctuation, soft hyphen, ZWJ
    " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2001\u2028\u202f\u3000\u200b\ufeff"  # whitespace and look-alikes
    "0123456789０１９٣۷߁+＋()-‐–/#@_"  # digits of several scripts, phone punctuation
    "abcdefABCDEF"  # hex letters
    "\U00010efd\U00011f41\U0001e4ec"  # marks this Python does not know yet
    "北京ｍａ"
)
TEMPLATES = [
    "N/A", "null", "None", "-", "undefined", "unknown", "nan", "#N/A", "", "na",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "+44 (0)20 7946 0958", "0044 20 7946 0958", "020 7946 0958", "(415) 555-0100", "1-415-555-0100",
    "06 6982 1234", "8 912 345-67-89", "12345", "+1234567890123456",
    "1990-05-17", "19900517", "1990-05-17 10:00:00", "2023-02-30", "0000-01-01", "1990-05-17T08:00:00Z", "1990-05-17t08:00",
    "94107", "94107-1234", "941071234", "123456", "SW1A 1AA",
    "Female", "male", "Non Binary", "California", "new york", "Ontario", "United States", "UK", "Türkiye",
    "ΟΔΥΣΣΕΥΣ", "İSTANBUL", "St. Louis", "Straße",
]
WHITESPACE = st.text(alphabet=" \t\n\u3000\u00a0\u2028\x1c", max_size=3)


@st.composite
def case_variants(draw, text_strategy):
    text = draw(text_strategy)
    changes = draw(st.lists(st.sampled_from([str.upper, str.lower, str]), min_size=len(text), max_size=len(text)))
    varied = "".join(change(ch) for ch, change in zip(text, changes))
    return draw(WHITESPACE) + varied + draw(WHITESPACE)


values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.text(alphabet=TRICKY, max_size=20),
    case_variants(st.sampled_from(TEMPLATES)),
    case_variants(st.text(alphabet=TRICKY, max_size=12)),
    st.builds(lambda a, b: a + b, st.sampled_from(TEMPLATES), st.text(alphabet=TRICKY, max_size=4)),
)


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(values, st.sampled_from(REGIONS)), min_size=1, max_size=60))
def test_sql_macros_equal_reference_byte_for_byte(con, pairs):
    assert_paths_agree(con, pairs)


BLOCK = 0x800


@pytest.mark.parametrize("first", range(0x80, 0x3400, BLOCK), ids=hex)
def test_single_characters_agree(con, first):
    """Every non-ASCII character of the alphabetic blocks, alone and inside a word, in every field."""
    characters = [chr(cp) for cp in range(first, min(first + BLOCK, 0x3400))]
    if first == 0x80:
        characters += ["\U00010efd", "\U0001e4ec", "\U0001f600"]
    pairs = []
    for ch in characters:
        pairs += [(ch, "us"), ("A" + ch + "Σ", None), (" Σ" + ch, "gb"), ("1990-05-1" + ch, "de")]
    assert_paths_agree(con, pairs)


# -- phonenumbers as the oracle -------------------------------------------------------------------

NUMBER_TYPES = [
    PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.VOIP, PhoneNumberType.UAN,
]


def well_formed_example(region: str, number_type: int, tail: int) -> phonenumbers.PhoneNumber | None:
    """A valid number of the region and type whose national form is trunk prefix + national number.

    Numbers outside that simple shape (Argentine mobiles with their `15`, Belarus's `8 0`) and
    numbers shorter than 8 E.164 digits are outside what docs/rules.md promises to normalize.
    """
    example = phonenumbers.example_number_for_type(region.upper(), number_type)
    if example is None:
        return None
    national = phonenumbers.national_significant_number(example)
    varied = national[: max(len(national) - 3, 1)] + str(tail).zfill(3)[-(len(national) - max(len(national) - 3, 1)) :]
    number = phonenumbers.parse("+" + str(example.country_code) + varied)
    if not phonenumbers.is_valid_number_for_region(number, region.upper()):
        number = example
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]
    if not 8 <= len(e164) <= 15:
        return None
    national_digits = "".join(ch for ch in phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL) if ch.isdigit())
    trunk = lookups.phone_regions()[region].trunk_prefix
    nsn = phonenumbers.national_significant_number(number)
    if national_digits not in {trunk + nsn, nsn} or (national_digits == nsn and trunk and nsn.startswith(trunk)):
        return None
    return number


phone_cases = st.lists(
    st.tuples(st.sampled_from(sorted(lookups.phone_regions())), st.sampled_from(NUMBER_TYPES), st.integers(0, 999)),
    min_size=1,
    max_size=40,
)


@PROPERTY_SETTINGS
@given(phone_cases)
def test_valid_numbers_normalize_to_their_e164_digits(con, cases):
    rows: list[tuple[str, str | None, str]] = []
    for region, number_type, tail in cases:
        number = well_formed_example(region, number_type, tail)
        if number is None:
            continue
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]
        rows += [
            (phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), region, e164),
            (phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL), None, e164),
            (phonenumbers.format_number(number, PhoneNumberFormat.E164), "zz", e164),
            ("00" + e164, region, e164),
        ]
    if not rows:
        return
    for text, region, e164 in rows:
        assert reference.normalize_ph(text, region) == e164, (text, region)
    got = con.execute(
        "SELECT pp_normalize_ph(t, r) FROM (SELECT unnest($t) AS t, unnest($r) AS r, unnest(range(len($t))) AS i) ORDER BY i",
        {"t": [text for text, _, _ in rows], "r": [region for _, region, _ in rows]},
    ).fetchall()
    assert [value for (value,) in got] == [e164 for _, _, e164 in rows]


def test_every_region_has_a_calling_code_and_the_oracle_covers_most_of_them():
    regions = lookups.phone_regions()
    assert all(region.calling_code.isdigit() for region in regions.values())
    covered = {
        region
        for region in regions
        for number_type in NUMBER_TYPES
        if well_formed_example(region, number_type, 0) is not None
    }
    assert len(covered) >= 0.95 * len(regions)


# -- what the SQL path relies on ------------------------------------------------------------------


def test_whitespace_is_exactly_what_str_strip_removes():
    assert set(lookups.WHITESPACE) == {chr(cp) for cp in range(0x110000) if chr(cp).isspace()}


def test_nfc_and_trim_never_make_hex_digits_or_whitespace_out_of_other_characters():
    """Why an already hashed value can be recognised on the raw text in SQL."""
    hex_digits = set("0123456789abcdefABCDEF")
    for cp in range(0x80, 0x110000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or ch in lookups.WHITESPACE:
            continue
        normalized = unicodedata.normalize("NFC", ch)
        assert not (set(normalized) & hex_digits), hex(cp)
        assert not (set(normalized) & set(lookups.WHITESPACE)), hex(cp)


def test_duckdb_lower_differs_from_python_only_where_the_macros_correct_it(con):
    """DuckDB's lower() is Python's str.lower() on every code point but U+0130."""
    characters = [chr(cp) for cp in range(1, 0x110000) if not 0xD800 <= cp <= 0xDFFF]
    lowered = con.execute("SELECT lower(unnest($chars))", {"chars": characters}).fetchall()
    differing = [ch for ch, (low,) in zip(characters, lowered) if ch.lower() != low]
    assert differing == ["\u0130"]


def test_junk_values_can_never_be_real_values():
    assert not any(ch.isdigit() for value in lookups.JUNK_VALUES for ch in value)
    assert not lookups.JUNK_VALUES & set(lookups.GENDER_CODES)
    assert not lookups.JUNK_VALUES & set(lookups.country_codes_by_name())
    assert not lookups.JUNK_VALUES & {name for _, name in lookups.subdivision_codes_by_name()}
