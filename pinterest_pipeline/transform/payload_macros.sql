-- DuckDB macros that turn column values into pieces of the Pinterest event JSON, loaded by payload.py.
-- The event object is assembled by string concatenation of `"key":value` fragments, each NULL when
-- its value is absent, joined with `concat_ws` (which skips NULLs): so a NULL value never becomes a
-- `null` key, and an object with no fragments is left out. Amounts are plain decimal strings
-- (`2000`, `27.5`), never exponents, `nan` or `inf`.

-- Trimmed text of any scalar, NULL when blank.
CREATE OR REPLACE TEMP MACRO pp_text(v) AS nullif(trim(CAST(v AS VARCHAR)), '');

-- `"key":<JSON string>` or NULL.
CREATE OR REPLACE TEMP MACRO pp_str_field(key, v) AS
    CASE WHEN v IS NOT NULL THEN concat('"', key, '":', CAST(to_json(CAST(v AS VARCHAR)) AS VARCHAR)) END;

-- `"key":"<v>"` or NULL, for a value that never needs escaping: a name from a fixed set, a code or
-- a plain decimal the transform made itself (escaping every string is a large share of the JSON).
CREATE OR REPLACE TEMP MACRO pp_plain_str_field(key, v) AS
    CASE WHEN v IS NOT NULL THEN concat('"', key, '":"', v, '"') END;

-- `"key":<JSON number or boolean>` or NULL.
CREATE OR REPLACE TEMP MACRO pp_raw_field(key, v) AS
    CASE WHEN v IS NOT NULL THEN concat('"', key, '":', CAST(v AS VARCHAR)) END;

-- `"key":["<hash>"]` for one hex digest, or NULL (one string built, no intermediate ones).
CREATE OR REPLACE TEMP MACRO pp_hash_field(key, h) AS
    CASE WHEN h IS NOT NULL THEN concat('"', key, '":["', h, '"]') END;

-- `"key":["<hash>",...]` for a list of hex digests, or NULL when NULL or empty.
CREATE OR REPLACE TEMP MACRO pp_hash_list_field(key, hashes) AS
    CASE WHEN len(hashes) > 0 THEN '"' || key || '":["' || array_to_string(hashes, '","') || '"]' END;


-- A list, or NULL when it is empty.
CREATE OR REPLACE TEMP MACRO pp_nonempty(l) AS CASE WHEN len(l) > 0 THEN l END;

-- Sign, integer digits and fraction digits as a plain decimal: no leading integer zeros, no
-- trailing fraction zeros, `0` (never `-0`) for zero.
CREATE OR REPLACE TEMP MACRO pp_join_decimal(negative, int_digits, frac_digits) AS
    CASE WHEN negative AND (ltrim(int_digits, '0') <> '' OR rtrim(frac_digits, '0') <> '') THEN '-' ELSE '' END
    || coalesce(nullif(ltrim(int_digits, '0'), ''), '0')
    || CASE WHEN rtrim(frac_digits, '0') <> '' THEN '.' || rtrim(frac_digits, '0') ELSE '' END;

-- Digits with the decimal point placed after `point` of them, zero-padded either side.
CREATE OR REPLACE TEMP MACRO pp_place_point(digits, point) AS
    CASE
        WHEN point <= 0 THEN '0.' || repeat('0', -point) || digits
        WHEN point >= len(digits) THEN digits || repeat('0', point - len(digits))
        ELSE digits[1:point] || '.' || digits[point + 1:]
    END;

-- A number in scientific notation (`1.5e+21`, `-2E-7`; mantissa unsigned after the sign) made plain.
CREATE OR REPLACE TEMP MACRO pp_expand_exponent(negative, mantissa, exponent) AS
    pp_join_decimal(
        negative,
        split_part(pp_place_point(replace(mantissa, '.', ''), len(split_part(mantissa, '.', 1)) + exponent), '.', 1),
        split_part(pp_place_point(replace(mantissa, '.', ''), len(split_part(mantissa, '.', 1)) + exponent), '.', 2)
    );

-- A plain decimal string from numeric text (`2000.0` -> `2000`, `27.50` -> `27.5`,
-- `1e+21` -> `1000000000000000000000`), or NULL when the text is not a finite number.
-- Cheapest cases first: text already plain, then text without an exponent.
CREATE OR REPLACE TEMP MACRO pp_plain_decimal(s) AS (
    CASE
        WHEN regexp_full_match(s, '-?(0|[1-9]\d*)(\.\d*[1-9])?') AND s <> '-0' THEN s
        WHEN regexp_full_match(s, '[+-]?(\d+\.?\d*|\.\d+)')
            THEN pp_join_decimal(starts_with(s, '-'), split_part(ltrim(s, '+-'), '.', 1), split_part(ltrim(s, '+-'), '.', 2))
        WHEN regexp_full_match(s, '[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d{1,3}')
            THEN pp_expand_exponent(
                starts_with(s, '-'),
                split_part(lower(ltrim(s, '+-')), 'e', 1),
                CAST(split_part(lower(s), 'e', 2) AS INTEGER))
    END
);

-- A plain decimal string from a DECIMAL or DOUBLE, or NULL for NaN and infinities. Their text
-- is already plain except for trailing zeros (`27.50`, `2000.0`) and, for large or tiny DOUBLEs,
-- an exponent. DuckDB prints numbers in one well-formed shape, so no regular expression is needed:
-- this macro runs inside the products lambda, where a regex would be recompiled for every list.
CREATE OR REPLACE TEMP MACRO pp_plain_number(n) AS (
    CASE
        WHEN NOT isfinite(CAST(n AS DOUBLE)) THEN NULL
        WHEN n = 0 THEN '0'
        WHEN contains(CAST(n AS VARCHAR), 'e') THEN pp_expand_exponent(
            starts_with(CAST(n AS VARCHAR), '-'),
            split_part(ltrim(lower(CAST(n AS VARCHAR)), '-'), 'e', 1),
            TRY_CAST(split_part(lower(CAST(n AS VARCHAR)), 'e', 2) AS INTEGER))
        WHEN contains(CAST(n AS VARCHAR), '.') THEN rtrim(rtrim(CAST(n AS VARCHAR), '0'), '.')
        ELSE CAST(n AS VARCHAR)
    END
);

-- A plain decimal string from a DECIMAL, whose text never has an exponent: only trailing
-- fraction zeros go (`27.50` -> `27.5`, `2000.00` -> `2000`).
CREATE OR REPLACE TEMP MACRO pp_plain_exact_number(n) AS (
    CASE
        WHEN n = 0 THEN '0'
        WHEN contains(CAST(n AS VARCHAR), '.') THEN rtrim(rtrim(CAST(n AS VARCHAR), '0'), '.')
        ELSE CAST(n AS VARCHAR)
    END
);

-- An integer from text, or NULL unless the text is a whole number.
CREATE OR REPLACE TEMP MACRO pp_integer_text(s) AS
    CASE WHEN regexp_full_match(s, '[+-]?\d{1,18}') THEN CAST(s AS BIGINT) END;

-- An integer from a DOUBLE/DECIMAL, or NULL unless it is whole.
CREATE OR REPLACE TEMP MACRO pp_integer_number(n) AS
    CASE WHEN isfinite(CAST(n AS DOUBLE)) AND CAST(n AS DOUBLE) = trunc(CAST(n AS DOUBLE))
              AND abs(CAST(n AS DOUBLE)) < 9e18
        THEN CAST(n AS BIGINT) END;

-- The ISO-639-1 code of a language tag's first subtag (`en-US`, `en_US`, `EN` -> `en`), or NULL.
-- `iso639_1` is a MAP whose keys are the codes.
CREATE OR REPLACE TEMP MACRO pp_language(tag, iso639_1) AS (
    CASE WHEN map_contains(iso639_1, lower(split_part(replace(trim(tag), '_', '-'), '-', 1)))
        THEN lower(split_part(replace(trim(tag), '_', '-'), '-', 1)) END
);

-- The `epik` query parameter of a URL, URL-decoded, or NULL (most URLs have none: a substring
-- test spares them the regular expression).
CREATE OR REPLACE TEMP MACRO pp_epik(url) AS
    CASE WHEN contains(url, 'epik=') THEN nullif(url_decode(regexp_extract(url, '[?&]epik=([^&#]*)', 1)), '') END;

-- Whether comma-separated opt-out flags hold `LDP`.
CREATE OR REPLACE TEMP MACRO pp_has_ldp(flags) AS
    list_contains(list_transform(string_split(flags, ','), lambda f: trim(f)), 'LDP');
