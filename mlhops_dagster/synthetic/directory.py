"""Who and where: the clinician rota per site, the payers, and the names, streets and towns
a fake population is drawn from (Massachusetts, like Synthea's default)."""

from __future__ import annotations

# Each organization staffs PROVIDERS_PER_SITE clinicians; an encounter class is seen by a band.
PROVIDER_BANDS: tuple[tuple[str, int, int], ...] = (
    ("INTERNAL MEDICINE", 0, 2),
    ("EMERGENCY MEDICINE", 2, 2),
    ("GENERAL PRACTICE", 4, 4),
)
PROVIDERS_PER_SITE = 8
CLASS_PROVIDER_BAND = (2, 2, 2, 1, 1, 0)

PAYERS: tuple[tuple[str, str, float, str | None, str | None, str | None, str | None, str | None], ...] = (
    # name, ownership, share of cost covered, headquarters address, city, state, ZIP, phone
    ("Medicare", "GOVERNMENT", 0.80, "7500 Security Blvd", "Baltimore", "MD", "21244", "1-800-633-4227"),
    ("Medicaid", "GOVERNMENT", 0.90, "7500 Security Blvd", "Baltimore", "MD", "21244", "1-877-267-2323"),
    ("Blue Cross Blue Shield", "PRIVATE", 0.70, "101 Huntington Ave", "Boston", "MA", "02199", "1-800-262-2583"),
    ("Aetna", "PRIVATE", 0.65, "151 Farmington Ave", "Hartford", "CT", "06156", "1-800-872-3862"),
    ("UnitedHealthcare", "PRIVATE", 0.65, "9800 Healthcare Lane", "Minnetonka", "MN", "55436", "1-888-545-5205"),
    ("NO_INSURANCE", "NO_INSURANCE", 0.0, None, None, None, None, None),
)
UNDER_65_PAYER_SHARES = (0.0, 0.15, 0.30, 0.20, 0.25, 0.10)

RACES = ("white", "black", "asian", "native", "other")
RACE_SHARES = (0.72, 0.11, 0.08, 0.01, 0.08)
MALE_FIRST_NAMES = (
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Paul",
    "Steven",
)
FEMALE_FIRST_NAMES = (
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Nancy",
    "Margaret",
    "Sandra",
    "Emily",
    "Donna",
    "Michelle",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
)
STREETS = (
    "Main Street",
    "Oak Avenue",
    "Maple Street",
    "Cedar Lane",
    "Elm Street",
    "Park Road",
    "Washington Street",
    "Lake Drive",
    "Hill Street",
    "River Road",
    "Chestnut Street",
    "Pleasant Street",
)
CITIES: tuple[tuple[str, str, str, str, float, float], ...] = (
    # city, county, FIPS, ZIP, latitude, longitude
    ("Boston", "Suffolk County", "25025", "02118", 42.3601, -71.0589),
    ("Worcester", "Worcester County", "25027", "01608", 42.2626, -71.8023),
    ("Springfield", "Hampden County", "25013", "01103", 42.1015, -72.5898),
    ("Lowell", "Middlesex County", "25017", "01852", 42.6334, -71.3162),
    ("Brockton", "Plymouth County", "25023", "02301", 42.0834, -71.0184),
    ("Quincy", "Norfolk County", "25021", "02169", 42.2529, -71.0023),
    ("Lynn", "Essex County", "25009", "01901", 42.4668, -70.9495),
    ("New Bedford", "Bristol County", "25005", "02740", 41.6362, -70.9342),
    ("Pittsfield", "Berkshire County", "25003", "01201", 42.4501, -73.2454),
    ("Barnstable", "Barnstable County", "25001", "02601", 41.7003, -70.3002),
)
SITE_KINDS = ("General Hospital", "Medical Center", "Community Hospital")
STATE, STATE_CODE = "Massachusetts", "MA"
