"""The raw-extract contract: which Synthea CSV files and columns the pipeline loads.

The contract is an allow-list. Only the columns named here are ever read into the
warehouse; everything else in a file (names, SSN, addresses, coordinates, costs) is
left behind in the landing folder. Unknown extra columns are tolerated, missing required
columns are a user error naming file and column. Column aliases absorb differences
between Synthea exporter versions 2.7.0 to 3.3 (see the project README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["id", "ref", "pseudo", "date", "timestamp", "text", "number", "integer"]
"""How a column is parsed and protected.

- ``pseudo``: a patient or encounter identifier, replaced by a keyed HMAC pseudonym.
- ``id`` / ``ref``: a non-patient identifier (organization, provider, payer), kept as text.
- ``date`` / ``timestamp``: ISO-8601; unparseable values quarantine the row when required,
  become null (and are counted) otherwise.
"""


@dataclass(frozen=True)
class Column:
    """One loaded column: its warehouse name, Synthea header name(s) and type."""

    name: str
    type: ColumnType
    required: bool = False
    aliases: tuple[str, ...] = ()
    year_means: Literal["start", "end"] | None = None
    """For date columns older exporters wrote as a bare year (payer_transitions START_YEAR):
    read ``YYYY`` as 1 January (start) or 31 December (end) of that year."""

    @property
    def headers(self) -> tuple[str, ...]:
        """Header names accepted for this column, preferred first (upper-case Synthea style)."""
        return (self.name.upper(), *self.aliases)


@dataclass(frozen=True)
class ExtractFile:
    """One CSV file of an extract and the columns the warehouse keeps from it."""

    name: str
    columns: tuple[Column, ...]
    required: bool = True
    primary_key: str | None = None
    patient_column: str | None = "patient"
    dropped_identifiers: tuple[str, ...] = field(default=())

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = Column

# Direct identifiers per file (HIPAA Safe Harbor and identifying staff/site fields). They are
# never loaded; the list exists so tests and docs can prove it.
PATIENT_IDENTIFIERS = (
    "SSN",
    "DRIVERS",
    "PASSPORT",
    "PREFIX",
    "FIRST",
    "MIDDLE",
    "LAST",
    "SUFFIX",
    "MAIDEN",
    "BIRTHPLACE",
    "ADDRESS",
    "CITY",
    "COUNTY",
    "FIPS",
    "ZIP",
    "LAT",
    "LON",
)

# Observation codes whose VALUE is itself a direct identifier. Synthea's PRAPARE social-needs
# survey asks LOINC 56799-0 "What address do you live at?" and stores the patient's street
# address as the answer, so the row is clinical (it is kept) but its value must never pass
# ingest: the value is loaded as NULL and counted in the file's ``values_redacted``.
IDENTIFYING_OBSERVATION_CODES: frozenset[str] = frozenset({"56799-0"})

FILES: tuple[ExtractFile, ...] = (
    ExtractFile(
        "patients",
        (
            C("id", "pseudo", True),
            C("birthdate", "date", True),
            C("deathdate", "date"),
            C("race", "text"),
            C("ethnicity", "text"),
            C("gender", "text", True),
            C("state", "text"),
        ),
        primary_key="id",
        patient_column="id",
        dropped_identifiers=PATIENT_IDENTIFIERS,
    ),
    ExtractFile(
        "encounters",
        (
            C("id", "pseudo", True),
            C("start", "timestamp", True),
            C("stop", "timestamp"),
            C("patient", "pseudo", True),
            C("organization", "ref"),
            C("provider", "ref"),
            C("payer", "ref"),
            C("encounterclass", "text", True),
            C("code", "text"),
            C("description", "text"),
            C("reasoncode", "text"),
        ),
        primary_key="id",
    ),
    ExtractFile(
        "conditions",
        (
            C("start", "date", True),
            C("stop", "date"),
            C("patient", "pseudo", True),
            C("encounter", "pseudo"),
            C("system", "text"),
            C("code", "text", True),
            C("description", "text"),
        ),
    ),
    ExtractFile(
        "medications",
        (
            C("start", "timestamp", True),
            C("stop", "timestamp"),
            C("patient", "pseudo", True),
            C("payer", "ref"),
            C("encounter", "pseudo"),
            C("code", "text", True),
            C("description", "text"),
            C("dispenses", "integer"),
            C("reasoncode", "text"),
        ),
    ),
    ExtractFile(
        "observations",
        (
            C("date", "timestamp", True),
            C("patient", "pseudo", True),
            C("encounter", "pseudo"),
            C("category", "text"),
            C("code", "text", True),
            C("description", "text"),
            C("value", "text"),
            C("units", "text"),
            C("type", "text"),
        ),
    ),
    ExtractFile(
        "procedures",
        (
            # Synthea 2.7.0 wrote a single DATE column instead of START/STOP.
            C("start", "timestamp", True, aliases=("DATE",)),
            C("stop", "timestamp"),
            C("patient", "pseudo", True),
            C("encounter", "pseudo"),
            C("system", "text"),
            C("code", "text", True),
            C("description", "text"),
            C("reasoncode", "text"),
        ),
    ),
    ExtractFile(
        "immunizations",
        (
            C("date", "timestamp", True),
            C("patient", "pseudo", True),
            C("encounter", "pseudo"),
            C("code", "text", True),
            C("description", "text"),
        ),
        required=False,
    ),
    ExtractFile(
        "allergies",
        (
            C("start", "date", True),
            C("stop", "date"),
            C("patient", "pseudo", True),
            C("encounter", "pseudo"),
            C("code", "text", True),
            C("system", "text"),
            C("description", "text"),
        ),
        required=False,
    ),
    ExtractFile(
        "devices",
        (
            C("start", "timestamp", True),
            C("stop", "timestamp"),
            C("patient", "pseudo", True),
            C("encounter", "pseudo"),
            C("code", "text", True),
            C("description", "text"),
        ),
        required=False,
        dropped_identifiers=("UDI",),  # a device identifier is a HIPAA identifier
    ),
    ExtractFile(
        "payer_transitions",
        (
            C("patient", "pseudo", True),
            # 3.1+ write dates; 2.7.0/3.0.0 are documented with bare years, but real 3.0 exports also carry
            # full timestamps here (dbt-synthea's sample): both parse.
            C("start_date", "date", True, aliases=("START_YEAR",), year_means="start"),
            C("end_date", "date", aliases=("END_YEAR",), year_means="end"),
            C("payer", "ref"),
            C("secondary_payer", "ref"),
            C("plan_ownership", "text", aliases=("OWNERSHIP",)),
        ),
        required=False,
        dropped_identifiers=("MEMBERID", "OWNER_NAME", "OWNERNAME"),  # member ids and names identify people
    ),
    ExtractFile(
        "organizations",
        (C("id", "id", True), C("name", "text"), C("state", "text"), C("zip", "text")),
        primary_key="id",
        patient_column=None,
        dropped_identifiers=("ADDRESS", "PHONE", "LAT", "LON"),
    ),
    ExtractFile(
        "providers",
        (
            C("id", "id", True),
            C("organization", "ref"),
            C("gender", "text"),
            C("speciality", "text"),
        ),
        primary_key="id",
        patient_column=None,
        dropped_identifiers=("NAME", "ADDRESS", "CITY", "ZIP", "LAT", "LON"),
    ),
    ExtractFile(
        "payers",
        (C("id", "id", True), C("name", "text"), C("ownership", "text")),
        primary_key="id",
        patient_column=None,
        dropped_identifiers=("ADDRESS", "PHONE"),
    ),
)

FILES_BY_NAME = {f.name: f for f in FILES}
REQUIRED_FILES = tuple(f.name for f in FILES if f.required)
SUCCESS_MARKER = "_SUCCESS"

EXPORTER_HEADERS: dict[str, tuple[str, ...]] = {
    "patients": (
        "Id",
        "BIRTHDATE",
        "DEATHDATE",
        "SSN",
        "DRIVERS",
        "PASSPORT",
        "PREFIX",
        "FIRST",
        "MIDDLE",
        "LAST",
        "SUFFIX",
        "MAIDEN",
        "MARITAL",
        "RACE",
        "ETHNICITY",
        "GENDER",
        "BIRTHPLACE",
        "ADDRESS",
        "CITY",
        "STATE",
        "COUNTY",
        "FIPS",
        "ZIP",
        "LAT",
        "LON",
        "HEALTHCARE_EXPENSES",
        "HEALTHCARE_COVERAGE",
        "INCOME",
    ),
    "encounters": (
        "Id",
        "START",
        "STOP",
        "PATIENT",
        "ORGANIZATION",
        "PROVIDER",
        "PAYER",
        "ENCOUNTERCLASS",
        "CODE",
        "DESCRIPTION",
        "BASE_ENCOUNTER_COST",
        "TOTAL_CLAIM_COST",
        "PAYER_COVERAGE",
        "REASONCODE",
        "REASONDESCRIPTION",
    ),
    "conditions": ("START", "STOP", "PATIENT", "ENCOUNTER", "SYSTEM", "CODE", "DESCRIPTION"),
    "medications": (
        "START",
        "STOP",
        "PATIENT",
        "PAYER",
        "ENCOUNTER",
        "CODE",
        "DESCRIPTION",
        "BASE_COST",
        "PAYER_COVERAGE",
        "DISPENSES",
        "TOTALCOST",
        "REASONCODE",
        "REASONDESCRIPTION",
    ),
    "observations": (
        "DATE",
        "PATIENT",
        "ENCOUNTER",
        "CATEGORY",
        "CODE",
        "DESCRIPTION",
        "VALUE",
        "UNITS",
        "TYPE",
    ),
    "procedures": (
        "START",
        "STOP",
        "PATIENT",
        "ENCOUNTER",
        "SYSTEM",
        "CODE",
        "DESCRIPTION",
        "BASE_COST",
        "REASONCODE",
        "REASONDESCRIPTION",
    ),
    "immunizations": ("DATE", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION", "BASE_COST"),
    "allergies": (
        "START",
        "STOP",
        "PATIENT",
        "ENCOUNTER",
        "CODE",
        "SYSTEM",
        "DESCRIPTION",
        "TYPE",
        "CATEGORY",
        "REACTION1",
        "DESCRIPTION1",
        "SEVERITY1",
        "REACTION2",
        "DESCRIPTION2",
        "SEVERITY2",
    ),
    "devices": ("START", "STOP", "PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION", "UDI"),
    "organizations": (
        "Id",
        "NAME",
        "ADDRESS",
        "CITY",
        "STATE",
        "ZIP",
        "LAT",
        "LON",
        "PHONE",
        "REVENUE",
        "UTILIZATION",
        "NPI",
    ),
    "providers": (
        "Id",
        "ORGANIZATION",
        "NAME",
        "GENDER",
        "SPECIALITY",
        "ADDRESS",
        "CITY",
        "STATE",
        "ZIP",
        "LAT",
        "LON",
        "ENCOUNTERS",
        "PROCEDURES",
        "NPI",
    ),
    "payers": (
        "Id",
        "NAME",
        "OWNERSHIP",
        "ADDRESS",
        "CITY",
        "STATE_HEADQUARTERED",
        "ZIP",
        "PHONE",
        "AMOUNT_COVERED",
        "AMOUNT_UNCOVERED",
        "REVENUE",
        "COVERED_ENCOUNTERS",
        "UNCOVERED_ENCOUNTERS",
        "COVERED_MEDICATIONS",
        "UNCOVERED_MEDICATIONS",
        "COVERED_PROCEDURES",
        "UNCOVERED_PROCEDURES",
        "COVERED_IMMUNIZATIONS",
        "UNCOVERED_IMMUNIZATIONS",
        "UNIQUE_CUSTOMERS",
        "QOLS_AVG",
        "MEMBER_MONTHS",
    ),
    "payer_transitions": (
        "PATIENT",
        "MEMBERID",
        "START_DATE",
        "END_DATE",
        "PAYER",
        "SECONDARY_PAYER",
        "PLAN_OWNERSHIP",
        "OWNER_NAME",
    ),
}
"""The full header of each file as the Synthea 3.3 exporter writes it, in column order.

``FILES`` above is what the warehouse keeps of an extract; this is what an extract holds (the
synthetic generator writes exactly these columns, the identifiers ingest drops included).
"""
