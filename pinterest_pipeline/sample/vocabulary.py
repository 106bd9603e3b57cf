"""What the sample warehouse is made of: weighted vocabularies of messy values, countries, products.

Each vocabulary is a list of (value, weight) whose weights sum to 100: the generator expands it to a
100-entry list and a pseudo-random draw modulo 100 picks an entry, so the weights are the percentages
of rows. `None` stands for NULL. The messy spellings here are deliberate: each is a case the
normalizer has to handle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Weighted = list[tuple[object, int]]


def expand(weighted: Weighted) -> list:
    """A weighted vocabulary as a 100-entry list: a draw modulo 100 then picks with those weights."""
    total = sum(weight for _, weight in weighted)
    if total != 100:
        raise ValueError(f"vocabulary weights sum to {total}, not 100")
    return [value for value, weight in weighted for _ in range(weight)]


# --- behavioural events -------------------------------------------------------------------------
# (source event name, kind): the kind decides which properties the event carries. Names come from the
# presets of the integration guides (Segment, RudderStack, Commanders Act, Chord, Customer.io), in the
# spellings those tools emit, plus names no preset knows.
EVENT_NAMES: Weighted = [
    (("page", "page"), 12), (("Page Viewed", "page"), 9), (("page_view", "page"), 6),
    (("Product Viewed", "product"), 8), (("view_item", "product"), 4),
    (("Product Added", "product"), 8), (("AddToCart", "product"), 3), (("add_to_cart", "product"), 3),
    (("Add To Cart", "product"), 1),
    (("Product Added to Wishlist", "product"), 2), (("add_to_wishlist", "product"), 1),
    (("Checkout Started", "product"), 3), (("begin_checkout", "product"), 2),
    (("Products Searched", "search"), 6), (("search", "search"), 3), (("Product List Filtered", "search"), 2),
    (("Product Category Viewed", "category"), 2), (("view_item_list", "category"), 2),
    (("Signed Up", "plain"), 3), (("sign_up", "plain"), 2), (("completeregistration", "plain"), 1),
    (("Generate Lead", "plain"), 2), (("generate_lead", "plain"), 2), (("contact", "plain"), 1),
    (("Product Video Watched", "plain"), 1), (("watch_video", "plain"), 1),
    (("Application Installed", "plain"), 1), (("Application Opened", "plain"), 1),
    (("Trial Started", "plain"), 1), (("Payment Info Entered", "plain"), 1),
    (("purchase", "product"), 1),
    (("Newsletter Opened", "plain"), 2), (("Coupon Applied", "plain"), 2), (("refund", "plain"), 1),
]
# Where the event happened. Pinterest accepts web, app_ios, app_android and offline (trimmed,
# lowercased); NULL and the invalid `kiosk`/`email` exercise the rejects.
EVENT_CHANNELS: Weighted = [
    ("web", 52), ("Web", 2), (" web ", 1), ("app_ios", 18), ("app_android", 17), ("offline", 3),
    (None, 4), ("kiosk", 2), ("email", 1),
]
ORDER_CHANNELS: Weighted = [
    ("web", 58), ("WEB", 2), ("app_ios", 12), ("app_android", 10), ("offline", 12), (None, 4), ("pos", 2),
]
LOCALES: Weighted = [
    ("en-US", 35), ("en_US", 10), ("en", 5), ("EN", 2), ("fr-FR", 8), ("fr_FR", 5), ("de-DE", 6),
    ("tr-TR", 4), ("el-GR", 3), ("it-IT", 4), ("es-419", 2), ("pt-BR", 2), ("zh-Hans-CN", 1),
    ("english", 2), ("eng", 1), (None, 10),
]
# Valid ISO-4217 codes in several cases, NULL, and values no currency table knows.
CURRENCIES: Weighted = [
    ("USD", 55), ("EUR", 15), ("GBP", 8), ("CAD", 4), ("TRY", 2), ("usd", 4), (" eur", 1), (None, 8),
    ("US$", 2), ("EURO", 1),
]
SEARCH_QUERIES: Weighted = [
    (query, 10)
    for query in (
        "boho wall art", "linen duvet", "Céramique bol", "standing desk", "kinderzimmer deko",
        "mutfak rafı", "φωτιστικό", "running shoes", "Gift for mom", "minimalist lamp",
    )
]
PAGE_CATEGORIES: Weighted = [
    (category, 10)
    for category in (
        "Home Decor", "Kitchen & Dining", "Women's Fashion", "Shoes", "Garden", "Beauty", "Toys & Games",
        "Électronique", "Bath", "Lighting",
    )
]
WEB_USER_AGENTS: Weighted = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", 30),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Safari/605.1.15", 20),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", 20),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Mobile Safari/537.36", 15),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 5),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", 5),
    (None, 5),
]
IOS_DEVICES: Weighted = [
    (("iPhone15,2", "phone", "17.4.1"), 40),
    (("iPhone14,7", "phone", "16.7.2"), 35),
    (("iPad13,4", "tablet", "17.4"), 25),
]
ANDROID_DEVICES: Weighted = [
    (("Samsung", "SM-S918B", "phone", "14"), 40), (("Google", "Pixel 8", "phone", "14"), 35),
    (("Xiaomi", "2201117TG", "phone", "13"), 15), (("Samsung", "SM-X710", "tablet", "13"), 10),
]
APP_VERSIONS: Weighted = [("5.12.0", 60), ("5.11.2", 30), ("5.10.1", 10)]
CARRIERS: Weighted = [("T-Mobile", 25), ("Verizon", 20), ("AT&T", 15), ("Vodafone", 15), ("Orange", 10), (None, 15)]

# --- customers ----------------------------------------------------------------------------------
FIRST_NAMES: Weighted = [
    (name, 4)
    for name in (
        "Alex", "Mary", "JOHN", "José", "Zoe\u0308",  # the last one decomposed: NFC makes it "Zoë"
        "İbrahim", "Ayşe", "Işıl", "Γιώργος", "ΟΔΥΣΣΕΥΣ",  # Turkish dotted/dotless i, Greek final sigma
        "Élodie", "François", "Jürgen", "Björn", "Anne Marie", "  Sam ", "Chloé", "Nguyễn", "Li", "Ελένη",
        "Sophie", "Kemal", "Giulia", "Liam", "Emma",
    )
]
LAST_NAMES: Weighted = [
    (name, 4)
    for name in (
        "Keener", "Müller", "Öztürk", "İNCE", "Παπαδόπουλος", "O'Brien", "García Márquez", "van der Berg",
        "Dupont", "Großmann", "SMITH", "Nguyen", "Rossi", "Yılmaz", "Σταυρόπουλος", " Lefèvre ", "Kowalski",
        "Brown", "Lee", "Martin", "Schäfer", "Çelik", "Bianchi", "Wilson", "Taylor",
    )
]
EMAIL_HANDLES: Weighted = [
    (handle, 10)
    for handle in (
        "alex.keener", "maria.garcia", "j.smith", "sophie_l", "kemal.oz", "eleni.p", "juergen.m",
        "francois.d", "li.wei", "sam",
    )
]
EMAIL_DOMAINS: Weighted = [
    ("gmail.com", 35), ("outlook.com", 15), ("yahoo.fr", 10), ("web.de", 10), ("example.com", 15),
    ("icloud.com", 10), ("hotmail.co.uk", 5),
]
# How the email of one customer is stored. `prehashed` is an upper-case SHA-256 of the normalized
# address, as partners and older pipelines deliver them; `turkish` has a capital dotted İ.
EMAIL_STYLES: Weighted = [
    ("plain", 55), ("mixed_case", 10), ("padded", 8), ("prehashed", 7), ("turkish", 3), ("junk", 3),
    (None, 14),
]
GENDERS: Weighted = [
    ("F", 12), ("female", 10), ("Female", 6), ("woman", 2), ("M", 12), ("male", 10), ("MALE", 4),
    ("man", 2), ("non-binary", 2), ("nonbinary", 1), ("Non Binary", 1), ("n", 1), ("unknown", 3),
    ("prefer not to say", 2), ("", 2), (None, 30),
]
# Birthdays are free text from an old sign-up form: ISO, compact, with a time, US-style (not
# accepted, dropped), impossible dates (dropped) and missing.
BIRTHDAY_STYLES: Weighted = [
    ("iso", 55), ("compact", 12), ("with_time", 6), ("us_slashes", 5), ("impossible", 2), (None, 20),
]
# How a phone number is written: national (with the trunk prefix where the country has one),
# international with `+` or `00`, `+44 (0)...`, digits only, and values that cannot be numbers.
PHONE_STYLES: Weighted = [
    ("national", 35), ("plus", 20), ("plus_zero", 5), ("double_zero", 5), ("digits", 10), ("us_parens", 10),
    ("too_short", 2), ("junk", 2), (None, 11),
]
# How a postal code is stored: as given, US ZIP+4 with a dash or as 9 digits, a US ZIP that lost its
# leading zero in a numeric column (malformed), lower case, padded, missing.
ZIP_STYLES: Weighted = [
    ("as_is", 60), ("zip_plus4", 10), ("nine_digits", 6), ("lost_leading_zero", 3), ("lower", 5),
    ("padded", 5), (None, 11),
]


@dataclass(frozen=True)
class Place:
    city: str
    postal_code: str
    state_code: str | None = None
    state_name: str | None = None


@dataclass(frozen=True)
class Country:
    """How one country's customers look: spellings of the country, phone numbering, places."""

    iso: str
    weight: int  # share of customers, percent
    spellings: tuple[str | None, ...]  # how the warehouse writes it; None: unknown to the shop
    calling_code: str
    trunk_prefix: str  # national prefix dropped in international form ('' for Italy, Greece)
    phone_prefixes: tuple[str, ...]  # leading digits of the national significant number
    phone_length: int  # digits in the national significant number
    places: tuple[Place, ...] = field(default=())


COUNTRIES: tuple[Country, ...] = (
    Country("US", 55, ("US", "US", "US", "us", "United States", "United States of America", None),
            "1", "1", ("415", "212", "646", "312", "617", "206", "310"), 10, (
        Place("San Francisco", "94107", "CA", "California"), Place("Los Angeles", "90012", "CA", "California"),
        Place("San Diego", "92101", "CA", "California"), Place("New York", "10001", "NY", "New York"),
        Place("Boston", "02134", "MA", "Massachusetts"), Place("Chicago", "60601", "IL", "Illinois"),
        Place("Seattle", "98101", "WA", "Washington"), Place("St. Louis", "63101", "MO", "Missouri"),
        Place("Austin", "73301", "TX", "Texas"), Place("Las Vegas", "89101", "NV", "Nevada"),
    )),
    Country("GB", 10, ("GB", "United Kingdom", "uk"), "44", "0", ("20", "161", "7700", "131"), 10, (
        Place("London", "SW1A 1AA"), Place("London", "EC1A 1BB"), Place("Manchester", "M1 1AE"),
        Place("Birmingham", "B33 8TH"), Place("Edinburgh", "EH1 1YZ"),
    )),
    Country("FR", 8, ("FR", "France", "fr"), "33", "0", ("1", "4", "6", "7"), 9, (
        Place("Paris", "75008"), Place("Lyon", "69001"), Place("Marseille", "13001"), Place("Saint-Étienne", "42000"),
    )),
    Country("DE", 7, ("DE", "Germany"), "49", "0", ("30", "89", "151", "221"), 10, (
        Place("Berlin", "10115"), Place("München", "80331"), Place("Köln", "50667"),
    )),
    Country("CA", 6, ("CA", "Canada"), "1", "1", ("416", "604", "514"), 10, (
        Place("Toronto", "M5V 3L9", "ON", "Ontario"), Place("Vancouver", "V6B 1A1", "BC", "British Columbia"),
        Place("Montréal", "H2X 1Y4", "QC", "Quebec"),
    )),
    Country("TR", 5, ("TR", "Turkey", "Türkiye"), "90", "0", ("212", "312", "532", "555"), 10, (
        Place("İstanbul", "34000"), Place("Ankara", "06420"), Place("İzmir", "35210"),
    )),
    Country("GR", 4, ("GR", "Greece"), "30", "", ("210", "2310", "69"), 10, (
        Place("Αθήνα", "105 57"), Place("Θεσσαλονίκη", "546 21"),
    )),
    Country("IT", 5, ("IT", "Italy", "Italia"), "39", "", ("06", "02", "347"), 10, (
        Place("Roma", "00184"), Place("Milano", "20121"), Place("Napoli", "80133"),
    )),
)

# --- products -----------------------------------------------------------------------------------
PRODUCT_ADJECTIVES = ["Linen", "Ceramic", "Oak", "Velvet", "Brass", "Rattan", "Wool", "Bamboo", "Marble", "Côte"]
PRODUCT_NOUNS = ["Lamp", "Throw", "Vase", "Mirror", "Bowl", "Rug", "Chair", "Planter", "Frame", "Sneaker"]
PRODUCT_BRANDS: Weighted = [
    ("Acme Home", 25), ("Maison Lumière", 20), ("Öko Living", 15), ("Nordvik", 20), ("Casa Bella", 10), (None, 10),
]


def vocabularies() -> dict[str, list]:
    """The weighted vocabularies as 100-entry lists, each set as a DuckDB variable of that name."""
    events = expand(EVENT_NAMES)
    ios = expand(IOS_DEVICES)
    android = expand(ANDROID_DEVICES)
    channels = expand(EVENT_CHANNELS)
    return {
        "event_name": [name for name, _ in events],
        "event_kind": [kind for _, kind in events],
        "event_channel": channels,
        "event_platform": [(channel or "").strip().lower() for channel in channels],
        "order_channel": expand(ORDER_CHANNELS),
        "locale": expand(LOCALES),
        "currency": expand(CURRENCIES),
        "search_query": expand(SEARCH_QUERIES),
        "page_category": expand(PAGE_CATEGORIES),
        "web_user_agent": expand(WEB_USER_AGENTS),
        "ios_model": [model for model, _, _ in ios],
        "ios_type": [kind for _, kind, _ in ios],
        "ios_os": [os_version for _, _, os_version in ios],
        "android_brand": [brand for brand, _, _, _ in android],
        "android_model": [model for _, model, _, _ in android],
        "android_type": [kind for _, _, kind, _ in android],
        "android_os": [os_version for _, _, _, os_version in android],
        "app_version": expand(APP_VERSIONS),
        "carrier": expand(CARRIERS),
        "first_name": expand(FIRST_NAMES),
        "last_name": expand(LAST_NAMES),
        "email_handle": expand(EMAIL_HANDLES),
        "email_domain": expand(EMAIL_DOMAINS),
        "email_style": expand(EMAIL_STYLES),
        "gender": expand(GENDERS),
        "birthday_style": expand(BIRTHDAY_STYLES),
        "phone_style": expand(PHONE_STYLES),
        "zip_style": expand(ZIP_STYLES),
        "brand": expand(PRODUCT_BRANDS),
    }


def place_rows() -> list[tuple]:
    """One row per percent of customers: (slot, country fields..., place fields...)."""
    rows: list[tuple] = []
    if sum(country.weight for country in COUNTRIES) != 100:
        raise ValueError("country weights must sum to 100")
    for country in COUNTRIES:
        for k in range(country.weight):
            place = country.places[k % len(country.places)]
            rows.append((
                len(rows), country.iso, list(country.spellings), len(country.spellings), country.calling_code,
                country.trunk_prefix, list(country.phone_prefixes), len(country.phone_prefixes),
                country.phone_length, place.city, place.postal_code, place.state_code, place.state_name,
            ))
    return rows
