"""OHDSI DataQualityDashboard (DQD v2.8.4, OMOP CDM 5.4) check catalogue for the CDM tables we build.

Derived once from DQD's default control files (Table_Level, Field_Level, Concept_Level, Check_Descriptions)
and reduced to the tables and fields of ``dbt_omop/models/omop``: DQD's v2 default thresholds (percent of
violating rows tolerated) and rules, as data. This module is the spec; edit it here (the DQD files are
reference only and never read at run time). Field parameters: ``isForeignKey`` (table, field, threshold),
``fkDomain``/``fkClass`` (value, threshold), ``sourceValueCompleteness`` (standard concept field, threshold),
``plausibleValueLow``/``High`` (value, threshold; ``"today+1"`` / ``"next_year"`` are resolved at run time),
``plausibleStartBeforeEnd`` (end field, threshold); every other check maps to its threshold.
"""

# ruff: noqa: E501

# table: DQD isRequired flag and the table-level checks that apply, with thresholds
TABLE_CHECKS: dict[str, dict] = {
    "care_site": {"required": False},
    "cdm_source": {"required": False},
    "condition_era": {"required": False, "measurePersonCompleteness": 95, "measureConditionEraCompleteness": 0},
    "condition_occurrence": {"required": False, "measurePersonCompleteness": 95},
    "death": {"required": False, "measurePersonCompleteness": 100},
    "device_exposure": {"required": False, "measurePersonCompleteness": 100},
    "drug_era": {"required": False, "measurePersonCompleteness": 95},
    "drug_exposure": {"required": False, "measurePersonCompleteness": 95},
    "location": {"required": False},
    "measurement": {"required": False, "measurePersonCompleteness": 95},
    "observation": {"required": False, "measurePersonCompleteness": 95},
    "observation_period": {"required": True, "measurePersonCompleteness": 0, "measureObservationPeriodOverlap": 0},
    "payer_plan_period": {"required": False, "measurePersonCompleteness": 100},
    "person": {"required": True},
    "procedure_occurrence": {"required": False, "measurePersonCompleteness": 95},
    "provider": {"required": False},
    "visit_detail": {"required": False, "measurePersonCompleteness": 100},
    "visit_occurrence": {"required": False, "measurePersonCompleteness": 95},
}

# table: {field: (CDM datatype, {check type: threshold or (parameters..., threshold)})}
FIELD_CHECKS: dict[str, dict[str, tuple[str, dict]]] = {
    "care_site": {
        "care_site_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "care_site_name": ("varchar(255)", {"measureValueCompleteness": 100}),
        "care_site_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "location_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("location", "location_id", 0), "measureValueCompleteness": 100},
        ),
        "place_of_service_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "place_of_service_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
    },
    "cdm_source": {
        "cdm_etl_reference": ("varchar(255)", {"measureValueCompleteness": 100}),
        "cdm_holder": ("varchar(255)", {"isRequired": 0, "measureValueCompleteness": 0}),
        "cdm_release_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("2000-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
            },
        ),
        "cdm_source_abbreviation": ("varchar(25)", {"isRequired": 0, "measureValueCompleteness": 0}),
        "cdm_source_name": ("varchar(255)", {"isRequired": 0, "measureValueCompleteness": 0}),
        "cdm_version": ("varchar(10)", {"measureValueCompleteness": 100}),
        "cdm_version_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Metadata", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
            },
        ),
        "source_description": ("varchar(MAX)", {"measureValueCompleteness": 100}),
        "source_documentation_reference": ("varchar(255)", {"measureValueCompleteness": 100}),
        "source_release_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("2000-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleStartBeforeEnd": ("source_release_date", 0),
            },
        ),
        "vocabulary_version": ("varchar(20)", {"isRequired": 0, "measureValueCompleteness": 0}),
    },
    "condition_era": {
        "condition_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Condition", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "condition_era_end_date": (
            "datetime",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "condition_era_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "condition_era_start_date": (
            "datetime",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("condition_era_end_date", 1),
            },
        ),
        "condition_occurrence_count": (
            "integer",
            {"cdmDatatype": 0, "measureValueCompleteness": 100, "plausibleValueLow": (1, 1)},
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
    },
    "condition_occurrence": {
        "condition_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Condition", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "condition_end_date": (
            "date",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "condition_end_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "condition_occurrence_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "condition_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 10,
            },
        ),
        "condition_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("condition_concept_id", 10)},
        ),
        "condition_start_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 5,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("condition_end_date", 1),
            },
        ),
        "condition_start_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("condition_end_datetime", 1),
            },
        ),
        "condition_status_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Condition Status", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "condition_status_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("condition_status_concept_id", 100)},
        ),
        "condition_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "stop_reason": ("varchar(20)", {"measureValueCompleteness": 100}),
        "visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_occurrence_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 100,
            },
        ),
    },
    "death": {
        "cause_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "cause_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 10,
            },
        ),
        "cause_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("cause_source_concept_id", 10)},
        ),
        "death_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
            },
        ),
        "death_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
            },
        ),
        "death_type_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
    },
    "device_exposure": {
        "device_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Device", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "device_exposure_end_date": (
            "date",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "device_exposure_end_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "device_exposure_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "device_exposure_start_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 5,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("device_exposure_end_date", 1),
            },
        ),
        "device_exposure_start_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("device_exposure_end_datetime", 1),
            },
        ),
        "device_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 10,
            },
        ),
        "device_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("device_concept_id", 100)},
        ),
        "device_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "production_id": ("varchar(255)", {"measureValueCompleteness": 100}),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "quantity": ("integer", {"cdmDatatype": 0, "measureValueCompleteness": 100, "plausibleValueLow": (1, 1)}),
        "unique_device_id": ("varchar(255)", {"measureValueCompleteness": 100}),
        "unit_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Unit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "unit_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 100,
            },
        ),
        "unit_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("unit_concept_id", 100)},
        ),
        "visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_occurrence_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 100,
            },
        ),
    },
    "drug_era": {
        "drug_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Drug", 0),
                "fkClass": ("Ingredient", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "drug_era_end_date": (
            "datetime",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "drug_era_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "drug_era_start_date": (
            "datetime",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("drug_era_end_date", 1),
            },
        ),
        "drug_exposure_count": (
            "integer",
            {"cdmDatatype": 0, "measureValueCompleteness": 100, "plausibleValueLow": (1, 1)},
        ),
        "gap_days": ("integer", {"cdmDatatype": 0, "measureValueCompleteness": 100, "plausibleValueLow": (0, 1)}),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
    },
    "drug_exposure": {
        "days_supply": (
            "integer",
            {
                "cdmDatatype": 0,
                "measureValueCompleteness": 100,
                "plausibleValueLow": (1, 1),
                "plausibleValueHigh": (365, 1),
            },
        ),
        "dose_unit_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "drug_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Drug", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "drug_exposure_end_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "drug_exposure_end_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "drug_exposure_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "drug_exposure_start_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 5,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("drug_exposure_end_date", 1),
            },
        ),
        "drug_exposure_start_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("drug_exposure_end_datetime", 1),
            },
        ),
        "drug_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 10,
            },
        ),
        "drug_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("drug_concept_id", 10)},
        ),
        "drug_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "lot_number": ("varchar(50)", {"measureValueCompleteness": 100}),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "quantity": ("float", {"measureValueCompleteness": 100, "plausibleValueLow": (1e-07, 1)}),
        "refills": (
            "integer",
            {
                "cdmDatatype": 0,
                "measureValueCompleteness": 100,
                "plausibleValueLow": (0, 1),
                "plausibleValueHigh": (24, 1),
            },
        ),
        "route_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Route", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "route_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("route_concept_id", 100)},
        ),
        "sig": ("varchar(MAX)", {"measureValueCompleteness": 100}),
        "stop_reason": ("varchar(20)", {"measureValueCompleteness": 100}),
        "verbatim_end_date": (
            "date",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_occurrence_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 100,
            },
        ),
    },
    "location": {
        "address_1": ("varchar(50)", {"measureValueCompleteness": 100}),
        "address_2": ("varchar(50)", {"measureValueCompleteness": 100}),
        "city": ("varchar(50)", {"measureValueCompleteness": 100}),
        "country_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Geography", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "country_source_value": ("varchar(80)", {"measureValueCompleteness": 100}),
        "county": ("varchar(20)", {"measureValueCompleteness": 100}),
        "latitude": ("float", {"measureValueCompleteness": 100}),
        "location_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "location_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "longitude": ("float", {"measureValueCompleteness": 100}),
        "state": ("varchar(2)", {"measureValueCompleteness": 100}),
        "zip": ("varchar(9)", {"measureValueCompleteness": 100}),
    },
    "measurement": {
        "meas_event_field_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
            },
        ),
        "measurement_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Measurement", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "measurement_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 5,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "measurement_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "measurement_event_id": ("bigint", {"measureValueCompleteness": 100}),
        "measurement_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "measurement_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 10,
            },
        ),
        "measurement_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("measurement_concept_id", 10)},
        ),
        "measurement_time": ("varchar(10)", {"measureValueCompleteness": 100}),
        "measurement_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "operator_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Meas Value Operator", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
            },
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "range_high": ("float", {"measureValueCompleteness": 100}),
        "range_low": ("float", {"measureValueCompleteness": 100}),
        "unit_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Unit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "unit_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 100,
            },
        ),
        "unit_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("unit_concept_id", 100)},
        ),
        "value_as_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "value_as_number": ("float", {"measureValueCompleteness": 100}),
        "value_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_occurrence_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 100,
            },
        ),
    },
    "observation": {
        "obs_event_field_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
            },
        ),
        "observation_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "observation_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 5,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "observation_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "observation_event_id": ("bigint", {"measureValueCompleteness": 100}),
        "observation_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "observation_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 10,
            },
        ),
        "observation_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("observation_concept_id", 100)},
        ),
        "observation_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "qualifier_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
            },
        ),
        "qualifier_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("qualifier_concept_id", 100)},
        ),
        "unit_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Unit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "unit_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("unit_concept_id", 100)},
        ),
        "value_as_concept_id": (
            "Integer",
            {"isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "value_as_number": ("float", {"measureValueCompleteness": 100}),
        "value_as_string": ("varchar(60)", {"measureValueCompleteness": 100}),
        "value_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_occurrence_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 100,
            },
        ),
    },
    "observation_period": {
        "observation_period_end_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "observation_period_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "observation_period_start_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("observation_period_end_date", 0),
            },
        ),
        "period_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
    },
    "payer_plan_period": {
        "family_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "payer_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "payer_plan_period_end_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "payer_plan_period_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "payer_plan_period_start_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("payer_plan_period_end_date", 1),
            },
        ),
        "payer_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "payer_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("payer_concept_id", 100)},
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "plan_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "plan_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "plan_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("plan_concept_id", 100)},
        ),
        "sponsor_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "sponsor_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "sponsor_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("sponsor_concept_id", 100)},
        ),
        "stop_reason_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "stop_reason_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "stop_reason_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("stop_reason_concept_id", 100)},
        ),
    },
    "person": {
        "birth_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1850-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
            },
        ),
        "care_site_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("care_site", "care_site_id", 0), "measureValueCompleteness": 100},
        ),
        "day_of_birth": (
            "integer",
            {
                "cdmDatatype": 0,
                "measureValueCompleteness": 100,
                "plausibleValueLow": (1, 1),
                "plausibleValueHigh": (31, 1),
            },
        ),
        "ethnicity_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Ethnicity", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "ethnicity_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "ethnicity_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("ethnicity_concept_id", 100)},
        ),
        "gender_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Gender", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "gender_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "gender_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("gender_concept_id", 100)},
        ),
        "location_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("location", "location_id", 0), "measureValueCompleteness": 100},
        ),
        "month_of_birth": (
            "integer",
            {
                "cdmDatatype": 0,
                "measureValueCompleteness": 100,
                "plausibleValueLow": (1, 1),
                "plausibleValueHigh": (12, 1),
            },
        ),
        "person_id": ("integer", {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0}),
        "person_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "race_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Race", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "race_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "race_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("race_concept_id", 100)},
        ),
        "year_of_birth": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": (1850, 1),
                "plausibleValueHigh": ("next_year", 1),
            },
        ),
    },
    "procedure_occurrence": {
        "modifier_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "modifier_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("modifier_concept_id", 100)},
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "procedure_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Procedure", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "procedure_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 5,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("procedure_end_date", 1),
            },
        ),
        "procedure_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("procedure_end_datetime", 1),
            },
        ),
        "procedure_end_date": (
            "date",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "procedure_end_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "procedure_occurrence_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "procedure_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 10,
            },
        ),
        "procedure_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("procedure_concept_id", 10)},
        ),
        "procedure_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "quantity": ("integer", {"cdmDatatype": 0, "measureValueCompleteness": 100, "plausibleValueLow": (1, 1)}),
        "visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_occurrence_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 100,
            },
        ),
    },
    "provider": {
        "care_site_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("care_site", "care_site_id", 0), "measureValueCompleteness": 100},
        ),
        "dea": ("varchar(20)", {"measureValueCompleteness": 100}),
        "gender_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Gender", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "gender_source_concept_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("concept", "concept_id", 0), "measureValueCompleteness": 100},
        ),
        "gender_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("gender_concept_id", 100)},
        ),
        "npi": ("varchar(20)", {"measureValueCompleteness": 100}),
        "provider_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "provider_name": ("varchar(255)", {"measureValueCompleteness": 100}),
        "provider_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "specialty_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 100,
            },
        ),
        "specialty_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 100,
            },
        ),
        "specialty_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("specialty_concept_id", 100)},
        ),
        "year_of_birth": ("integer", {"cdmDatatype": 0, "measureValueCompleteness": 100}),
    },
    "visit_detail": {
        "admitted_from_concept_id": (
            "Integer",
            {
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Visit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "admitted_from_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("admitted_from_concept_id", 100)},
        ),
        "care_site_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("care_site", "care_site_id", 0), "measureValueCompleteness": 100},
        ),
        "discharged_to_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Visit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "discharged_to_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("discharged_to_concept_id", 100)},
        ),
        "parent_visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "preceding_visit_detail_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("visit_detail", "visit_detail_id", 0), "measureValueCompleteness": 100},
        ),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_detail_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Visit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "visit_detail_end_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 1,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "visit_detail_end_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "visit_detail_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "visit_detail_source_concept_id": (
            "Integer",
            {
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 100,
            },
        ),
        "visit_detail_source_value": ("varchar(50)", {"measureValueCompleteness": 100}),
        "visit_detail_start_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "withinVisitDates": 1,
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("visit_detail_end_date", 1),
            },
        ),
        "visit_detail_start_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("visit_detail_end_datetime", 1),
            },
        ),
        "visit_detail_type_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "visit_occurrence_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
    },
    "visit_occurrence": {
        "admitted_from_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Visit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "admitted_from_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("admitted_from_concept_id", 100)},
        ),
        "care_site_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("care_site", "care_site_id", 0), "measureValueCompleteness": 100},
        ),
        "discharged_to_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Visit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 100,
                "standardConceptRecordCompleteness": 5,
            },
        ),
        "discharged_to_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("discharged_to_concept_id", 100)},
        ),
        "person_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("person", "person_id", 0),
                "measureValueCompleteness": 0,
            },
        ),
        "preceding_visit_occurrence_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("visit_occurrence", "visit_occurrence_id", 0),
                "measureValueCompleteness": 100,
            },
        ),
        "provider_id": (
            "integer",
            {"cdmDatatype": 0, "isForeignKey": ("provider", "provider_id", 0), "measureValueCompleteness": 100},
        ),
        "visit_concept_id": (
            "integer",
            {
                "isRequired": 0,
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Visit", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
        "visit_end_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "visit_end_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
            },
        ),
        "visit_occurrence_id": (
            "integer",
            {"isRequired": 0, "cdmDatatype": 0, "isPrimaryKey": 0, "measureValueCompleteness": 0},
        ),
        "visit_source_concept_id": (
            "integer",
            {
                "cdmDatatype": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "measureValueCompleteness": 100,
                "sourceConceptRecordCompleteness": 100,
            },
        ),
        "visit_source_value": (
            "varchar(50)",
            {"measureValueCompleteness": 100, "sourceValueCompleteness": ("visit_concept_id", 10)},
        ),
        "visit_start_date": (
            "date",
            {
                "isRequired": 0,
                "measureValueCompleteness": 0,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("visit_end_date", 1),
            },
        ),
        "visit_start_datetime": (
            "datetime",
            {
                "measureValueCompleteness": 100,
                "plausibleValueLow": ("1950-01-01", 1),
                "plausibleValueHigh": ("today+1", 1),
                "plausibleAfterBirth": 1,
                "plausibleBeforeDeath": 1,
                "plausibleStartBeforeEnd": ("visit_end_datetime", 1),
            },
        ),
        "visit_type_concept_id": (
            "Integer",
            {
                "isRequired": 0,
                "isForeignKey": ("concept", "concept_id", 0),
                "fkDomain": ("Type Concept", 0),
                "isStandardValidConcept": 0,
                "measureValueCompleteness": 0,
                "standardConceptRecordCompleteness": 0,
            },
        ),
    },
}

# (table, concept field, concept ids (and their descendants), name, plausible gender, threshold)
GENDER_CHECKS: tuple = (
    (
        "condition_occurrence",
        "condition_concept_id",
        (4090861, 4025213),
        "Male genitalia finding, Male reproductive finding",
        "Male",
        2,
    ),
    (
        "condition_occurrence",
        "condition_concept_id",
        (4095793, 443343, 4024004, 4172857, 444094, 197810, 4158481),
        "Female genitalia finding, Disorder of intrauterine contraceptive device, Menopause finding, Disorder of female genital system, Malignant neoplasm of uterine adnexa, Finding related to pregnancy, Female reproductive finding",
        "Female",
        2,
    ),
    ("procedure_occurrence", "procedure_concept_id", (4041261,), "Procedure on female genital system", "Female", 2),
    (
        "procedure_occurrence",
        "procedure_concept_id",
        (4250917, 4077750, 4043199, 4040577),
        "Operation on prostate, Operation on scrotum, Procedure on penis, Procedure on testis",
        "Male",
        2,
    ),
)

# (table, concept field, concept id, name, plausible unit_concept_ids (-1: no unit), threshold); only the
# measurement concepts our demo vocabulary and generator emit
UNIT_CHECKS: tuple = (
    (
        "measurement",
        "measurement_concept_id",
        3004410,
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        (8554, 8737, 9225, 9579),
        5,
    ),
    (
        "measurement",
        "measurement_concept_id",
        43055141,
        "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        (-1,),
        5,
    ),
    ("measurement", "measurement_concept_id", 3024171, "Respiratory rate", (8483, 8541), 5),
    ("measurement", "measurement_concept_id", 3027114, "Cholesterol [Mass/volume] in Serum or Plasma", (8840,), 5),
    ("measurement", "measurement_concept_id", 3000963, "Hemoglobin [Mass/volume] in Blood", (8636, 8713), 5),
    ("measurement", "measurement_concept_id", 3000483, "Glucose [Mass/volume] in Blood", (8840,), 5),
    ("measurement", "measurement_concept_id", 3038553, "Body mass index (BMI) [Ratio]", (9531,), 5),
    (
        "measurement",
        "measurement_concept_id",
        3022192,
        "Triglyceride [Mass/volume] in Serum or Plasma",
        (8840, 8753),
        5,
    ),
    (
        "measurement",
        "measurement_concept_id",
        3007070,
        "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
        (8840,),
        5,
    ),
    ("measurement", "measurement_concept_id", 3012888, "Diastolic blood pressure", (8876,), 5),
    ("measurement", "measurement_concept_id", 3036277, "Body height", (8582, 9327, 9330, 9546), 5),
    ("measurement", "measurement_concept_id", 3004249, "Systolic blood pressure", (8876,), 5),
    ("measurement", "measurement_concept_id", 3025315, "Body weight", (8739, 9346, 9373, 9529), 5),
    ("measurement", "measurement_concept_id", 3027018, "Heart rate", (8483, 8541, -1), 5),
    (
        "measurement",
        "measurement_concept_id",
        3000905,
        "Leukocytes [#/volume] in Blood by Automated count",
        (8816, 8848, 8961, 9436, 9444),
        5,
    ),
    ("measurement", "measurement_concept_id", 3020891, "Body temperature", (586323, 9289), 5),
    (
        "measurement",
        "measurement_concept_id",
        3024929,
        "Platelets [#/volume] in Blood by Automated count",
        (8816, 8848, 8961, 9436, 9444),
        5,
    ),
    # project additions: DQD lists these units for the serum/plasma concepts (3016723, 3019550), not the blood ones
    (
        "measurement",
        "measurement_concept_id",
        3051825,
        "Creatinine [Mass/volume] in Blood",
        (8840, 8749),
        5,
    ),  # mg/dL, umol/L
    (
        "measurement",
        "measurement_concept_id",
        3000285,
        "Sodium [Moles/volume] in Blood",
        (8753, 9557),
        5,
    ),  # mmol/L, mEq/L
)
