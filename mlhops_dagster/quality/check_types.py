"""The check types: DataQualityDashboard's Check_Descriptions (plus one project check), as data.

A check type says where it applies (table, field or concept), how Kahn's framework classifies
it, and how bad DQD considers a failure; :mod:`mlhops_dagster.quality.catalogue` applies each
type to the tables, fields and concepts of the CDM, and :mod:`mlhops_dagster.quality.compilers`
holds the SQL of each type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["ERROR", "WARN"]
Level = Literal["TABLE", "FIELD", "CONCEPT"]
Context = Literal["Verification", "Validation"]
KahnCategory = Literal["Conformance", "Completeness", "Plausibility"]
DqdSeverity = Literal["fatal", "convention", "characterization"]

SEVERITY_OF: dict[DqdSeverity, Severity] = {"fatal": "ERROR", "convention": "WARN", "characterization": "WARN"}
"""DQD's fatal checks block features and training; conventions and characterizations only warn."""


@dataclass(frozen=True)
class CheckType:
    """One DQD check type; ``description`` is a template of ``{table}``, ``{field}``, ``{ref}`` and ``{gender}``."""

    level: Level
    context: Context
    kahn_category: KahnCategory
    kahn_subcategory: str
    dqd_severity: DqdSeverity
    description: str

    @property
    def severity(self) -> Severity:
        return SEVERITY_OF[self.dqd_severity]


CHECK_TYPES: dict[str, CheckType] = {
    "cdmTable": CheckType(
        "TABLE", "Verification", "Conformance", "Relational", "fatal", "the {table} table is present"
    ),
    "measurePersonCompleteness": CheckType(
        "TABLE", "Validation", "Completeness", "", "convention", "persons with no record in {table}"
    ),
    "measureConditionEraCompleteness": CheckType(
        "TABLE", "Validation", "Completeness", "", "convention", "persons with conditions but no condition_era"
    ),
    "measureObservationPeriodOverlap": CheckType(
        "TABLE",
        "Verification",
        "Plausibility",
        "Temporal",
        "fatal",
        "observation periods overlapping another of the same person",
    ),
    # project check (DQD v2 has none): a copied source row reaches the CDM with a new id, so isPrimaryKey misses it
    "measureDuplicateRecords": CheckType(
        "TABLE",
        "Verification",
        "Plausibility",
        "Uniqueness",
        "characterization",
        "{table} records repeating another's {ref}",
    ),
    "cdmField": CheckType("FIELD", "Verification", "Conformance", "Relational", "fatal", "{table}.{field} is present"),
    "isRequired": CheckType("FIELD", "Validation", "Conformance", "Relational", "fatal", "{table}.{field} is not null"),
    "cdmDatatype": CheckType(
        "FIELD", "Verification", "Conformance", "Value", "fatal", "{table}.{field} holds integers"
    ),
    "isPrimaryKey": CheckType(
        "FIELD", "Verification", "Conformance", "Relational", "fatal", "{table}.{field} values are unique"
    ),
    "isForeignKey": CheckType(
        "FIELD", "Verification", "Conformance", "Relational", "fatal", "{table}.{field} values exist in {ref}"
    ),
    "fkDomain": CheckType(
        "FIELD", "Verification", "Conformance", "Value", "convention", "{table}.{field} concepts are in domain {ref}"
    ),
    "fkClass": CheckType(
        "FIELD",
        "Verification",
        "Conformance",
        "Computational",
        "convention",
        "{table}.{field} concepts are of class {ref}",
    ),
    "isStandardValidConcept": CheckType(
        "FIELD", "Verification", "Conformance", "Value", "convention", "{table}.{field} concepts are standard and valid"
    ),
    "measureValueCompleteness": CheckType(
        "FIELD", "Verification", "Completeness", "", "characterization", "{table}.{field} is populated"
    ),
    "standardConceptRecordCompleteness": CheckType(
        "FIELD", "Verification", "Completeness", "", "convention", "{table}.{field} is mapped (not concept 0)"
    ),
    "sourceConceptRecordCompleteness": CheckType(
        "FIELD", "Verification", "Completeness", "", "convention", "{table}.{field} is mapped (not concept 0)"
    ),
    "sourceValueCompleteness": CheckType(
        "FIELD",
        "Verification",
        "Completeness",
        "",
        "convention",
        "distinct {table}.{field} values mapped to a standard concept ({ref})",
    ),
    "plausibleValueLow": CheckType(
        "FIELD", "Verification", "Plausibility", "Atemporal", "characterization", "{table}.{field} >= {ref}"
    ),
    "plausibleValueHigh": CheckType(
        "FIELD", "Verification", "Plausibility", "Atemporal", "characterization", "{table}.{field} <= {ref}"
    ),
    "withinVisitDates": CheckType(
        "FIELD",
        "Verification",
        "Plausibility",
        "Temporal",
        "characterization",
        "{table}.{field} within its visit's dates +/- 7 days",
    ),
    "plausibleAfterBirth": CheckType(
        "FIELD",
        "Verification",
        "Plausibility",
        "Temporal",
        "characterization",
        "{table}.{field} not before the person's birth",
    ),
    "plausibleBeforeDeath": CheckType(
        "FIELD",
        "Verification",
        "Plausibility",
        "Temporal",
        "characterization",
        "{table}.{field} not more than 60 days after the person's death",
    ),
    "plausibleStartBeforeEnd": CheckType(
        "FIELD", "Verification", "Plausibility", "Temporal", "characterization", "{table}.{field} not after {ref}"
    ),
    "plausibleGenderUseDescendants": CheckType(
        "CONCEPT",
        "Validation",
        "Plausibility",
        "Atemporal",
        "characterization",
        "{ref} recorded only for {gender} persons",
    ),
    "plausibleUnitConceptIds": CheckType(
        "CONCEPT",
        "Verification",
        "Plausibility",
        "Atemporal",
        "characterization",
        "{ref} recorded with a plausible unit",
    ),
}
"""DQD's check types by name (Check_Descriptions; the descriptions are the project's short wording)."""
