"""The identity normalization rules (docs/rules.md#identity-normalization), in plain Python: the rule book.

The DuckDB macros in `normalize.sql` implement the same rules over columns and are proven
byte-identical to these functions by property tests. Each field has a `normalize_<field>` function
returning the plaintext that gets hashed (or None when the value is dropped) and a `hash_<field>`
function returning what is sent: the lowercase hex SHA-256 of that plaintext, or None.

Steps every field shares, in order:
1. Unicode NFC, then strip the whitespace `str.strip()` strips (`lookups.WHITESPACE`).
2. A value that is then a 64-character hex string is an already hashed value: it is lowercased and
   sent as it is, never hashed again.
3. A value whose lowercase form is blank or a placeholder (`lookups.JUNK_VALUES`) is dropped.
4. The field's own rule; an empty result is dropped, so the hash of "" is never produced.

"Lowercase" is Python's `str.lower()`: full Unicode case mapping, `İ` -> `i̇`, final sigma `ς`.
Digits are Unicode decimal digits (`２`, `٢` read as `2`) in phones, ZIP codes and dates.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable

from pinterest_pipeline.transform.normalize import lookups

PHONE_WITHOUT_COUNTRY_CODE = "phone_without_country_code"
PHONE_INVALID_LENGTH = "phone_invalid_length"
ZIP_MALFORMED = "zip_malformed"

E164_MIN_DIGITS, E164_MAX_DIGITS = 8, 15

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_NON_DIGITS = re.compile(r"[^0-9]")
# `+44 (0)20 ...`: the trunk zero some people write after their country code.
_TRUNK_ZERO_AFTER_COUNTRY_CODE = re.compile(r"^(\+|00)([0-9]{1,3})[ .-]*\(0\)")
_US_ZIP = re.compile(r"[0-9]{5}(?:[ -]?[0-9]{4})?")  # ZIP or ZIP+4 (94107-1234, 941071234)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9].*)?", re.DOTALL)  # DATE/TIMESTAMP text, ISO-8601
_COMPACT_DATE = re.compile(r"[0-9]{8}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- shared steps --------------------------------------------------------------------------------


def clean(value: str | None) -> str | None:
    """Step 1: NFC, then trim."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).strip(lookups.WHITESPACE)


def is_sha256_hex(cleaned: str) -> bool:
    return _SHA256_HEX.fullmatch(cleaned) is not None


def is_junk(cleaned: str) -> bool:
    return cleaned.lower() in lookups.JUNK_VALUES


def ascii_digits(text: str) -> str:
    """Unicode decimal digits (and the fullwidth plus sign) as their ASCII characters."""
    if text.isascii():
        return text
    return text.translate(lookups.digit_translation())


def _hash_normalized(value: str | None, normalize: Callable[..., str | None], *context: str | None) -> str | None:
    """Steps 1-4 around one field's `normalize` (which takes the cleaned, non-junk value)."""
    cleaned = clean(value)
    if cleaned is None:
        return None
    if is_sha256_hex(cleaned):
        return cleaned.lower()
    if is_junk(cleaned):
        return None
    normalized = normalize(cleaned, *context)
    return sha256_hex(normalized) if normalized else None


def _normalized(value: str | None, normalize: Callable[..., str | None], *context: str | None) -> str | None:
    cleaned = clean(value)
    if cleaned is None or is_junk(cleaned):
        return None
    return normalize(cleaned, *context) or None


# -- field rules on cleaned, non-junk values -----------------------------------------------------


def _lowercased(cleaned: str) -> str:
    return cleaned.lower()


def _kept(cleaned: str) -> str:
    return cleaned


def _gender(cleaned: str) -> str | None:
    return lookups.GENDER_CODES.get(cleaned.lower())


def _date_of_birth(cleaned: str) -> str | None:
    text = ascii_digits(cleaned)
    if _ISO_DATE.fullmatch(text):
        digits = text[:10].replace("-", "")
    elif _COMPACT_DATE.fullmatch(text):
        digits = text
    else:
        return None
    try:
        datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:  # 2023-02-30, month 13, year 0000
        return None
    return digits


def _city(cleaned: str) -> str:
    """Lowercase, keeping only letters, combining marks and digits (no spaces, punctuation, symbols)."""
    return "".join(ch for ch in cleaned.lower() if unicodedata.category(ch)[0] in "LMN")


def _state(cleaned: str, country: str | None) -> str:
    lowered = cleaned.lower()
    names = lookups.subdivision_codes_by_name()
    return names.get((country or lookups.DEFAULT_SUBDIVISION_COUNTRY, lowered), lowered)


def _zip_is_us(text: str, country: str | None) -> bool:
    return country == "us" or (country is None and _US_ZIP.fullmatch(text) is not None)


def _zip(cleaned: str, country: str | None) -> str | None:
    text = ascii_digits(cleaned)
    if _zip_is_us(text, country):
        return text[:5] if _US_ZIP.fullmatch(text) else None
    return "".join(ch for ch in text.lower() if not _is_space_or_dash(ch))


def _is_space_or_dash(ch: str) -> bool:
    return ch in lookups.WHITESPACE or unicodedata.category(ch) == "Pd"


def _country(cleaned: str) -> str | None:
    return lookups.country_codes_by_name().get(cleaned.lower())


def _phone(cleaned: str, region: str | None) -> tuple[str | None, str | None]:
    """(E.164 digits without `+`, warning code), by the algorithm of docs/rules.md (phone numbers)."""
    text = _TRUNK_ZERO_AFTER_COUNTRY_CODE.sub(r"\1\2", ascii_digits(cleaned))
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return None, None
    if text.startswith(("+", "00")):
        digits = digits.lstrip("0")
    else:
        known = lookups.phone_regions().get(region) if region else None
        if known is None:
            return None, PHONE_WITHOUT_COUNTRY_CODE
        if known.trunk_prefix and digits.startswith(known.trunk_prefix):
            digits = digits[len(known.trunk_prefix) :]
        digits = known.calling_code + digits
    if not E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS:
        return None, PHONE_INVALID_LENGTH
    return digits, None


def _phone_digits(cleaned: str, region: str | None) -> str | None:
    return _phone(cleaned, region)[0]


# -- public: plaintext ---------------------------------------------------------------------------


def normalize_em(value: str | None) -> str | None:
    return _normalized(value, _lowercased)


def normalize_fn(value: str | None) -> str | None:
    return _normalized(value, _lowercased)


def normalize_ln(value: str | None) -> str | None:
    return _normalized(value, _lowercased)


def normalize_ge(value: str | None) -> str | None:
    return _normalized(value, _gender)


def normalize_db(value: str | None) -> str | None:
    return _normalized(value, _date_of_birth)


def normalize_ct(value: str | None) -> str | None:
    return _normalized(value, _city)


def normalize_st(value: str | None, country: str | None) -> str | None:
    return _normalized(value, _state, country)


def normalize_zp(value: str | None, country: str | None) -> str | None:
    return _normalized(value, _zip, country)


def normalize_country(value: str | None) -> str | None:
    return _normalized(value, _country)


def normalize_external_id(value: str | None) -> str | None:
    return _normalized(value, _kept)


def normalize_maid(value: str | None) -> str | None:
    return _normalized(value, _lowercased)


def normalize_ph(value: str | None, region: str | None) -> str | None:
    return _normalized(value, _phone_digits, region)


def country_code(value: str | None) -> str | None:
    """A row's raw country (code or name) as a lowercase ISO alpha-2 code, or None if unknown."""
    return normalize_country(value)


# -- public: what is sent ------------------------------------------------------------------------


def hash_em(value: str | None) -> str | None:
    return _hash_normalized(value, _lowercased)


def hash_fn(value: str | None) -> str | None:
    return _hash_normalized(value, _lowercased)


def hash_ln(value: str | None) -> str | None:
    return _hash_normalized(value, _lowercased)


def hash_ge(value: str | None) -> str | None:
    return _hash_normalized(value, _gender)


def hash_db(value: str | None) -> str | None:
    return _hash_normalized(value, _date_of_birth)


def hash_ct(value: str | None) -> str | None:
    return _hash_normalized(value, _city)


def hash_st(value: str | None, country: str | None) -> str | None:
    return _hash_normalized(value, _state, country)


def hash_zp(value: str | None, country: str | None) -> str | None:
    return _hash_normalized(value, _zip, country)


def hash_country(value: str | None) -> str | None:
    return _hash_normalized(value, _country)


def hash_external_id(value: str | None) -> str | None:
    return _hash_normalized(value, _kept)


def hash_maid(value: str | None) -> str | None:
    return _hash_normalized(value, _lowercased)


def hash_ph(value: str | None, region: str | None) -> str | None:
    return _hash_normalized(value, _phone_digits, region)


# -- public: warnings ----------------------------------------------------------------------------


def ph_warning(value: str | None, region: str | None) -> str | None:
    """`phone_without_country_code` or `phone_invalid_length` when a present phone is dropped."""
    cleaned = clean(value)
    if cleaned is None or is_sha256_hex(cleaned) or is_junk(cleaned):
        return None
    return _phone(cleaned, region)[1]


def zp_warning(value: str | None, country: str | None) -> str | None:
    """`zip_malformed` when a present US ZIP code has neither 5 digits nor the ZIP+4 shape."""
    cleaned = clean(value)
    if cleaned is None or is_sha256_hex(cleaned) or is_junk(cleaned):
        return None
    text = ascii_digits(cleaned)
    if _zip_is_us(text, country) and not _US_ZIP.fullmatch(text):
        return ZIP_MALFORMED
    return None


def distinct_hashes(values: Iterable[str | None] | None) -> list[str] | None:
    """The non-None values, distinct, in first-seen order; None when there are none."""
    if values is None:
        return None
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    return distinct or None
