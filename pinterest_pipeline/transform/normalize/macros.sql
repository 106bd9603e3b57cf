-- The normalization macros (docs/rules.md, identity normalization), loaded by normalize/sql.py.
-- `<<NAME>>` placeholders are filled there with literals built from lookup tables (Unicode classes,
-- phone regions, junk values...); the statements are split on a semicolon at the end of a line.
--
-- DuckDB expands a macro's body at each use and does not share repeated subexpressions inside CASE
-- branches, so the macros are written as pipelines that read each intermediate value once. Where a
-- value is needed twice it is bound with a one-element lambda, `list_transform([x], lambda y: ...)[1]`,
-- whose body holds only small constants: a lambda body is re-initialised for every chunk of rows,
-- which recompiles its regular expressions and rebuilds its MAP literals.

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

-- Phones, the steps (1)-(4) of docs/rules.md (phone numbers): `t` is the text after step (1), `r` the region's
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
