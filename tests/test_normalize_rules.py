"""Identity normalization (docs/rules.md) field by field: raw value -> the digest Pinterest receives.

Each case names the normalized plaintext a data engineer would expect; the expected digest is the
SHA-256 of that plaintext, computed here with hashlib. Every case runs through both the DuckDB macros
and the reference normalizer, so the two implementations are held to the same table.
"""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from pinterest_pipeline.transform.normalize import reference
from pinterest_pipeline.transform.normalize.sql import install_normalize_macros

HEX = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"  # an already hashed value
DROPPED = None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    install_normalize_macros(connection)
    install_normalize_macros(connection)  # idempotent
    yield connection
    connection.close()


def sql_call(con, macro: str, *args: str | None):
    placeholders = ", ".join("?" for _ in args)
    return con.execute(f"SELECT {macro}({placeholders})", list(args)).fetchone()[0]


def check(con, field: str, value: str | None, context: tuple, expected_plaintext: str | None) -> None:
    expected = sha(expected_plaintext) if expected_plaintext is not None else None
    assert getattr(reference, f"hash_{field}")(value, *context) == expected
    assert sql_call(con, f"pp_hash_{field}", value, *context) == expected
    assert getattr(reference, f"normalize_{field}")(value, *context) == expected_plaintext
    assert sql_call(con, f"pp_normalize_{field}", value, *context) == expected_plaintext


# Placeholders and blanks are dropped in every field, whatever their case or padding.
JUNK = ["N/A", "n/a", " NULL ", "null", "None", "-", "", "   ", "\u3000\t", "undefined", "Unknown", "#N/A", "NaN", None]


@pytest.mark.parametrize("field", ["em", "fn", "ln", "ge", "db", "ct", "country", "external_id", "maid"])
@pytest.mark.parametrize("value", JUNK)
def test_junk_and_blank_values_are_dropped(con, field, value):
    check(con, field, value, (), DROPPED)


@pytest.mark.parametrize("field, context", [("st", ("us",)), ("zp", ("us",)), ("zp", (None,)), ("ph", ("us",))])
@pytest.mark.parametrize("value", JUNK)
def test_junk_and_blank_values_are_dropped_in_fields_with_a_country(con, field, context, value):
    check(con, field, value, context, DROPPED)


@pytest.mark.parametrize(
    "field, context",
    [("em", ()), ("fn", ()), ("ln", ()), ("ge", ()), ("db", ()), ("ct", ()), ("country", ()),
     ("external_id", ()), ("maid", ()), ("st", ("us",)), ("zp", ("us",)), ("ph", ("us",)), ("ph", (None,))],
)
@pytest.mark.parametrize("value", [HEX, HEX.lower(), f"  {HEX}\t", f"\u3000{HEX.lower()}\u00a0"])
def test_already_hashed_values_pass_through_lowercased(con, field, context, value):
    """A 64-hex value is someone's SHA-256 already: lowercased, never hashed again."""
    assert getattr(reference, f"hash_{field}")(value, *context) == HEX.lower()
    assert sql_call(con, f"pp_hash_{field}", value, *context) == HEX.lower()


@pytest.mark.parametrize(
    "value, expected",
    [
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("\t\nbob@example.com\r\n", "bob@example.com"),
        ("\u3000anna@example.com\u00a0", "anna@example.com"),  # ideographic space, no-break space
        ("İSTANBUL@örnek.com", "i\u0307stanbul@örnek.com"),  # Python lowercases İ to i + combining dot
        ("ΟΔΥΣΣΕΥΣ@mail.gr", "οδυσσευς@mail.gr"),  # final sigma before '@'
        ("Straße@Example.de", "straße@example.de"),  # ß has no lowercase change
        ("ＭＡＲＩＥ@example.com", "ｍａｒｉｅ@example.com"),  # full-width letters stay full width (NFC, not NFKC)
        ("E\u0301mile@example.fr", "émile@example.fr"),  # decomposed accent composed by NFC
        ("a" * 63, "a" * 63),  # 63 hex digits is not a hash
    ],
)
def test_em(con, value, expected):
    check(con, "em", value, (), expected)


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("fn", "  Émile ", "émile"),
        ("fn", "Mary  Ann", "mary  ann"),  # inner spaces kept
        ("fn", "ÇAĞRI", "çağri"),  # Python's lower is not Turkish-aware: I -> i
        ("fn", "İlkay", "i\u0307lkay"),
        ("fn", "ΣΩΚΡΑΤΗΣ", "σωκρατης"),
        ("fn", "Σ", "σ"),  # a lone capital sigma is not final
        ("fn", "ΑΣ'Σ", "ασ'ς"),  # the apostrophe is case-ignorable: only the last sigma is final
        ("fn", "ǅemal", "ǆemal"),  # titlecase digraph
        ("ln", "Müller", "müller"),
        ("ln", "O'Brien", "o'brien"),
        ("ln", "GROß", "groß"),
        ("ln", "Nguyễn", "nguyễn"),
        ("external_id", " Cust-42 ", "Cust-42"),  # case kept
        ("external_id", "İD-7", "İD-7"),
        ("maid", " 6D92078A-8246-4BA4-AE5B-76104861E7DC ", "6d92078a-8246-4ba4-ae5b-76104861e7dc"),
    ],
)
def test_names_ids_and_maids(con, field, value, expected):
    check(con, field, value, (), expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Female", "f"), ("F", "f"), ("woman", "f"),
        (" MALE ", "m"), ("m", "m"), ("Man", "m"),
        ("non-binary", "n"), ("Non Binary", "n"), ("NONBINARY", "n"), ("n", "n"), ("non_binary", "n"),
        ("x", DROPPED), ("other", DROPPED), ("fem", DROPPED),
    ],
)
def test_ge(con, value, expected):
    check(con, "ge", value, (), expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1990-05-17", "19900517"),
        ("19900517", "19900517"),
        ("  1990-05-17 ", "19900517"),
        ("1990-05-17 00:00:00", "19900517"),  # CAST(TIMESTAMP AS VARCHAR)
        ("1990-05-17 13:45:00.123+02", "19900517"),  # CAST(TIMESTAMPTZ AS VARCHAR)
        ("1990-05-17T08:00:00Z", "19900517"),
        ("1990-05-17t08:00:00z", "19900517"),
        ("2024-02-29", "20240229"),
        ("１９９０-０５-１７", "19900517"),  # full-width digits
        ("2023-02-30", DROPPED),
        ("2023-02-29", DROPPED),
        ("1990-13-01", DROPPED),
        ("0000-01-01", DROPPED),
        ("1990/05/17", DROPPED),
        ("17.05.1990", DROPPED),
        ("1990-5-17", DROPPED),
        ("199005170", DROPPED),
        ("1990-05-17garbage", DROPPED),
    ],
)
def test_db(con, value, expected):
    check(con, "db", value, (), expected)


def test_db_from_date_and_timestamp_columns(con):
    """DATE and TIMESTAMP values reach the macro as their VARCHAR casts."""
    row = con.execute(
        "SELECT pp_hash_db(CAST(DATE '1990-05-17' AS VARCHAR)), pp_hash_db(CAST(TIMESTAMP '1990-05-17 23:59:59' AS VARCHAR))"
    ).fetchone()
    assert row == (sha("19900517"), sha("19900517"))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("San Francisco", "sanfrancisco"),
        ("  St. Louis ", "stlouis"),
        ("Winston-Salem", "winstonsalem"),
        ("Coeur d’Alene", "coeurdalene"),
        ("Zürich", "zürich"),
        ("São Paulo", "sãopaulo"),
        ("北京 市", "北京市"),
        ("Paris 8e", "paris8e"),
        ("---", DROPPED),
        ("?!", DROPPED),
    ],
)
def test_ct(con, value, expected):
    check(con, "ct", value, (), expected)


@pytest.mark.parametrize(
    "value, country, expected",
    [
        ("CA", "us", "ca"),
        ("ny", None, "ny"),
        ("California", "us", "ca"),
        ("  CALIFORNIA ", None, "ca"),  # no country: US state names
        ("New York", "us", "ny"),
        ("District of Columbia", "us", "dc"),
        ("Puerto Rico", "us", "pr"),
        ("Ontario", "ca", "on"),
        ("Quebec", "ca", "qc"),
        ("Bayern", "de", "by"),
        ("British Columbia", None, "british columbia"),  # not a US state
        ("NSW", "au", "nsw"),  # sent as written where no two-letter table exists
    ],
)
def test_st(con, value, country, expected):
    check(con, "st", value, (country,), expected)


@pytest.mark.parametrize(
    "value, country, expected, warning",
    [
        ("94107", "us", "94107", None),
        ("94107-1234", "us", "94107", None),  # ZIP+4
        ("941071234", "us", "94107", None),  # ZIP+4 as 9 digits
        (" 02134 ", "us", "02134", None),
        ("02134", None, "02134", None),  # no country known, US shape
        ("94107-1234", None, "94107", None),
        ("９４１０７", "us", "94107", None),
        ("123456", "us", DROPPED, "zip_malformed"),
        ("9410", "us", DROPPED, "zip_malformed"),
        ("SW1A 1AA", "us", DROPPED, "zip_malformed"),
        ("SW1A 1AA", "gb", "sw1a1aa", None),
        ("sw1a-1aa", None, "sw1a1aa", None),
        ("K1A 0B6", "ca", "k1a0b6", None),
        ("75008", "fr", "75008", None),
        ("123456", None, "123456", None),  # no country and not a US shape: not a US ZIP
        ("N/A", "us", DROPPED, None),
        (HEX, "us", DROPPED, None),
    ],
)
def test_zp(con, value, country, expected, warning):
    if value != HEX:
        check(con, "zp", value, (country,), expected)
    assert reference.zp_warning(value, country) == warning
    assert sql_call(con, "pp_zp_warning", value, country) == warning


def test_zp_from_an_integer_column(con):
    """The caller casts a numeric ZIP column and left-pads it to five digits."""
    assert con.execute("SELECT pp_hash_zp(lpad(CAST(2134 AS VARCHAR), 5, '0'), 'us')").fetchone()[0] == sha("02134")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("US", "us"), ("us", "us"), (" united states ", "us"), ("United States of America", "us"),
        ("USA", "us"), ("U.S.A.", "us"), ("UK", "gb"), ("Great Britain", "gb"), ("United Kingdom", "gb"),
        ("Germany", "de"), ("DEU", "de"), ("Côte d'Ivoire", "ci"), ("Cote d'Ivoire", "ci"),
        ("Korea, Republic of", "kr"), ("South Korea", "kr"), ("Türkiye", "tr"), ("Turkey", "tr"),
        ("NA", "na"),  # Namibia, not a placeholder
        ("XX", DROPPED), ("Narnia", DROPPED), ("Deutschland", DROPPED),
    ],
)
def test_country(con, value, expected):
    check(con, "country", value, (), expected)
    assert reference.country_code(value) == expected
    assert sql_call(con, "pp_country_code", value) == expected


@pytest.mark.parametrize(
    "value, region, expected, warning",
    [
        ("+44 (0)20 7946 0958", None, "442079460958", None),  # (0) after the country code removed
        ("+44(0)2079460958", "us", "442079460958", None),  # international: the region is irrelevant
        ("0044 20 7946 0958", None, "442079460958", None),
        ("0044 (0)20 7946 0958", None, "442079460958", None),
        ("+1 415-555-0100", None, "14155550100", None),
        ("020 7946 0958", "gb", "442079460958", None),  # national, trunk 0 removed
        ("(415) 555-0100", "us", "14155550100", None),
        ("1 (415) 555-0100", "us", "14155550100", None),  # NANP trunk 1 removed, then 1 prepended
        ("123456789", "us", "123456789", None),  # the example of docs/rules.md
        ("06 6982 1234", "it", "390669821234", None),  # Italy has no trunk prefix: leading zero kept
        ("8 (912) 345-67-89", "ru", "79123456789", None),  # trunk 8
        ("06 1 234 5678", "hu", "3612345678", None),  # trunk 06
        ("090-1234-5678", "jp", "819012345678", None),
        ("０９０－１２３４－５６７８", "jp", "819012345678", None),  # full-width digits
        ("＋８１ ９０ １２３４ ５６７８", None, "819012345678", None),
        ("12345", "us", DROPPED, "phone_invalid_length"),  # too short
        ("+4420794", None, DROPPED, "phone_invalid_length"),  # 7 digits
        ("+1234567890123456", None, DROPPED, "phone_invalid_length"),  # 16 digits
        ("+000", None, DROPPED, "phone_invalid_length"),
        ("020 7946 0958", None, DROPPED, "phone_without_country_code"),
        ("020 7946 0958", "zz", DROPPED, "phone_without_country_code"),  # unknown region
        ("call me", "us", DROPPED, None),  # no digits at all: blank, not a phone
        ("N/A", None, DROPPED, None),
    ],
)
def test_ph(con, value, region, expected, warning):
    check(con, "ph", value, (region,), expected)
    assert reference.ph_warning(value, region) == warning
    assert sql_call(con, "pp_ph_warning", value, region) == warning


def test_ph_region_from_row_country_else_default_country(con):
    """The caller resolves the region: the row's country when known, else the default country."""
    rows = con.execute(
        """
        SELECT pp_hash_ph(phone, coalesce(pp_country_code(country), 'us'))
        FROM (VALUES (1, '020 7946 0958', 'United Kingdom'), (2, '(415) 555-0100', NULL), (3, '(415) 555-0100', 'Narnia'))
             AS t(i, phone, country)
        ORDER BY i
        """
    ).fetchall()
    assert [row[0] for row in rows] == [sha("442079460958"), sha("14155550100"), sha("14155550100")]


def test_ph_in_a_lambda_over_a_list_column(con):
    rows = con.execute(
        "SELECT pp_distinct_hashes(list_transform(phones, lambda v: pp_hash_ph(v, region))) "
        "FROM (VALUES (['020 7946 0958', '+44 20 7946 0958', NULL, 'n/a'], 'gb')) AS t(phones, region)"
    ).fetchone()
    assert rows[0] == [sha("442079460958")]


@pytest.mark.parametrize(
    "values, expected",
    [
        (["b", None, "a", "b", "a"], ["b", "a"]),
        ([None, None], None),
        ([], None),
        (None, None),
    ],
)
def test_distinct_hashes_keeps_first_seen_order(con, values, expected):
    assert reference.distinct_hashes(values) == expected
    assert con.execute("SELECT pp_distinct_hashes(CAST(? AS VARCHAR[]))", [values]).fetchone()[0] == expected


def test_the_hash_of_the_empty_string_is_never_produced(con):
    empty = sha("")
    values = ["", " ", "\u3000", "-", "---", "?!", "()", "+", "N/A"]
    for value in values:
        for field, context in [("em", ()), ("ct", ()), ("external_id", ()), ("st", ("us",)), ("zp", ("gb",)), ("ph", ("us",))]:
            assert getattr(reference, f"hash_{field}")(value, *context) != empty
            assert sql_call(con, f"pp_hash_{field}", value, *context) != empty
