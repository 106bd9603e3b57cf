"""Tables shared by the reference normalizer and the DuckDB macros (docs/rules.md#identity-normalization).

Both paths read their lists from here, so a rule can never drift between Python and SQL. Everything
is derived at run time from the libraries that own the data (`phonenumbers` metadata, `pycountry`,
Python's own `unicodedata` and `str.lower()`), computed on first use and cached for the process.
Keys of the name tables are in the form the normalizer looks them up in: NFC, trimmed, `str.lower()`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import phonenumbers
import pycountry
from phonenumbers import PhoneMetadata

# Exactly the characters Python's `str.isspace()` accepts, i.e. what a bare `str.strip()` removes:
# Unicode White_Space plus the ASCII separators U+001C..U+001F. Spelled out so that the SQL `trim`
# and the reference strip the same set (DuckDB's one-argument `trim` removes only U+0020).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
ASCII_WHITESPACE = "".join(ch for ch in WHITESPACE if ch.isascii())

# Placeholders that systems write instead of leaving a field empty, compared after NFC, trim and
# lowercasing. Never a real value of any field: no digits (so no phone, ZIP or date), no gender
# spelling, no country name. `na` is deliberately absent: it is Namibia and a family name.
JUNK_VALUES = frozenset(
    {
        "", "-", "--", ".", "?", "n/a", "n.a.", "#n/a", "null", "(null)", "<null>", "nil", "none",
        "nan", "undefined", "unknown",
    }
)

# Gender spellings (lowercased) -> Pinterest's `f`, `m`, `n`. Anything else is dropped.
GENDER_CODES = {
    "f": "f", "female": "f", "woman": "f",
    "m": "m", "male": "m", "man": "m",
    "n": "n", "non-binary": "n", "nonbinary": "n", "non binary": "n", "non_binary": "n",
}

# Countries looked up when a row's state has no country at all: Pinterest's `st` is the US state.
DEFAULT_SUBDIVISION_COUNTRY = "us"

# Common English names missing from ISO 3166 as pycountry spells it (lowercased) -> alpha-2.
COUNTRY_ALIASES = {
    "uk": "gb", "u.k.": "gb", "great britain": "gb", "britain": "gb", "england": "gb", "scotland": "gb",
    "wales": "gb", "northern ireland": "gb",
    "usa": "us", "u.s.": "us", "u.s.a.": "us", "america": "us", "united states of america": "us",
    "the netherlands": "nl", "holland": "nl", "russia": "ru", "iran": "ir", "syria": "sy",
    "vietnam": "vn", "laos": "la", "north korea": "kp", "south korea": "kr", "korea": "kr",
    "bolivia": "bo", "venezuela": "ve", "tanzania": "tz", "moldova": "md", "czech republic": "cz",
    "ivory coast": "ci", "turkey": "tr", "macedonia": "mk", "swaziland": "sz", "burma": "mm",
    "cape verde": "cv", "east timor": "tl", "vatican": "va", "vatican city": "va", "palestine": "ps",
    "micronesia": "fm", "brunei": "bn", "macau": "mo", "uae": "ae", "the bahamas": "bs",
    "the gambia": "gm", "republic of ireland": "ie", "dr congo": "cd", "drc": "cd",
    "congo-kinshasa": "cd", "congo-brazzaville": "cg", "republic of the congo": "cg",
}


def key(text: str) -> str:
    """A name in lookup form: NFC, trimmed, lowercased (what the normalizer compares with)."""
    return unicodedata.normalize("NFC", text).strip(WHITESPACE).lower()


def _key_variants(name: str) -> set[str]:
    """The name as written, without accents (`Türkiye` -> `turkiye`), and un-inverted
    (`Korea, Republic of` -> `republic of korea`)."""
    base = key(name)
    variants = {base}
    if ", " in base:
        head, _, tail = base.partition(", ")
        variants.add(f"{tail} {head}")
    for variant in list(variants):
        decomposed = unicodedata.normalize("NFD", variant)
        unaccented = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
        variants.add(unicodedata.normalize("NFC", unaccented))
    return variants


@dataclass(frozen=True)
class PhoneRegion:
    calling_code: str
    trunk_prefix: str  # "" where the region has none (Italy, Spain, ...): leading zeros are kept


@cache
def phone_regions() -> dict[str, PhoneRegion]:
    """Lowercase region code -> calling code and national trunk prefix, from `phonenumbers` metadata.

    Only the `national_prefix` is used (`0`, `1` in NANP, `8` in Russia, `06` in Hungary), not the
    per-region parsing regexes: docs/rules.md defines one simple algorithm both paths share.
    Non-geographic entities (`001`) are not regions a row can be in.
    """
    table = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        table[region.lower()] = PhoneRegion(str(metadata.country_code), metadata.national_prefix or "")
    return table


@cache
def country_codes_by_name() -> dict[str, str]:
    """Lookup form of alpha-2, alpha-3, name, official and common names, aliases -> lowercase alpha-2."""
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2.lower()
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                for variant in _key_variants(value):
                    table.setdefault(variant, code)
    for alias, code in COUNTRY_ALIASES.items():
        table.setdefault(key(alias), code)
    return table


@cache
def subdivision_codes_by_name() -> dict[tuple[str, str], str]:
    """(lowercase alpha-2, subdivision name in lookup form) -> lowercase subdivision code.

    Covers the countries whose first-level subdivision codes are all two letters (the US with its
    territories, Canada, Germany, Brazil, India, Switzerland, ...): for them a name maps to the
    two-letter code Pinterest asks for. Other countries' states are sent as written (lowercased).
    """
    first_level: dict[str, list] = {}
    for subdivision in pycountry.subdivisions:
        if subdivision.parent_code is None:
            first_level.setdefault(subdivision.country_code, []).append(subdivision)
    table: dict[tuple[str, str], str] = {}
    for country_code, subdivisions in first_level.items():
        codes = [s.code.partition("-")[2] for s in subdivisions]
        if not all(len(code) == 2 and code.isascii() and code.isalpha() for code in codes):
            continue
        for subdivision, code in zip(subdivisions, codes):
            for variant in _key_variants(subdivision.name):
                table.setdefault((country_code.lower(), variant), code.lower())
    return table


CodePointRanges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class UnicodeTables:
    """Character classes of the running Python's Unicode database, for the SQL path.

    The reference normalizer asks `unicodedata` and `str.lower()` directly; the SQL path needs the
    same knowledge as explicit code point sets, because DuckDB ships its own (newer) Unicode data.
    """

    digit_values: dict[str, str]  # every non-ASCII decimal digit (Nd) and FULLWIDTH PLUS SIGN -> ASCII
    letters_marks_numbers: CodePointRanges  # categories L*, M*, N*: what a city name keeps
    dashes: CodePointRanges  # category Pd: removed from non-US postal codes with the whitespace
    unassigned: CodePointRanges  # category Cn in this Python: DuckDB may know these (newer Unicode)
    cased: CodePointRanges  # cased and not case-ignorable, as `str.lower()` decides final sigma
    case_ignorable: CodePointRanges


def _category_runs() -> list[tuple[int, int, str]]:
    """(first, last, general category) for every maximal run of code points sharing a category."""
    runs: list[tuple[int, int, str]] = []
    start, current = 0, unicodedata.category("\x00")
    for cp, category in enumerate(map(unicodedata.category, map(chr, range(0x110000)))):
        if category != current:
            runs.append((start, cp - 1, current))
            start, current = cp, category
    runs.append((start, 0x10FFFF, current))
    return runs


def merge_ranges(spans: list[tuple[int, int]]) -> CodePointRanges:
    """Sorted (first, last) spans -> maximal non-adjacent ranges."""
    merged: list[tuple[int, int]] = []
    for first, last in spans:
        if merged and merged[-1][1] + 1 == first:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return tuple(merged)


def _final_sigma_flags(characters: list[str], before: str) -> list[bool]:
    """For each character X: does `str.lower()` turn the sigma of `before + X + "Σ"` final?

    All probes go through one `lower()` call, separated by NUL (neither cased nor case-ignorable,
    so it ends each probe's context; the NUL character itself is not probed).
    """
    probes = "\x00".join(before + ch + "\u03a3" for ch in characters)
    return [piece.endswith("\u03c2") for piece in probes.lower().split("\x00")]


@cache
def unicode_tables() -> UnicodeTables:
    runs = _category_runs()
    digit_values = {
        chr(cp): str(unicodedata.decimal(chr(cp)))
        for first, last, category in runs
        if category == "Nd"
        for cp in range(max(first, 0x80), last + 1)
    }
    digit_values["\uff0b"] = "+"
    # Classify by what str.lower() itself does with a capital sigma after the character:
    # "XΣ" is final iff X is cased and not case-ignorable; "AXΣ" iff X is case-ignorable or cased.
    probed = [
        chr(cp)
        for first, last, category in runs
        if category not in ("Cn", "Co", "Cs")
        for cp in range(first, last + 1)
        if cp != 0
    ]
    cased_alone = _final_sigma_flags(probed, "")
    after_cased = _final_sigma_flags(probed, "A")
    cased = [(ord(ch), ord(ch)) for ch, alone in zip(probed, cased_alone) if alone]
    ignorable = [
        (ord(ch), ord(ch)) for ch, alone, after in zip(probed, cased_alone, after_cased) if after and not alone
    ]

    def spans(wanted: Callable[[str], bool]) -> CodePointRanges:
        return merge_ranges([(first, last) for first, last, category in runs if wanted(category)])

    return UnicodeTables(
        digit_values=digit_values,
        letters_marks_numbers=spans(lambda category: category[0] in "LMN"),
        dashes=spans(lambda category: category == "Pd"),
        unassigned=spans(lambda category: category == "Cn"),
        cased=merge_ranges(cased),
        case_ignorable=merge_ranges(ignorable),
    )


@cache
def digit_translation() -> dict[int, str]:
    """`str.translate` table of `UnicodeTables.digit_values`."""
    return str.maketrans(unicode_tables().digit_values)
