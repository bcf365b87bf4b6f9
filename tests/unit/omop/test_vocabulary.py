"""OHDSI Athena vocabulary loader: typing, reuse by fingerprint, errors, atomic reload."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from mlhops_dagster.omop.vocabulary import (
    ATHENA_SCHEMA,
    TABLE_COLUMNS,
    VocabularyError,
    load_athena_vocabulary,
    vocabulary_summary,
)

CONCEPT_HEADER = [
    "concept_id",
    "concept_name",
    "domain_id",
    "vocabulary_id",
    "concept_class_id",
    "standard_concept",
    "concept_code",
    "valid_start_date",
    "valid_end_date",
    "invalid_reason",
]
CONCEPTS = [
    ["8507", "MALE", "Gender", "Gender", "Gender", "S", "M", "19700101", "20991231", ""],
    ["8532", "FEMALE", "Gender", "Gender", "Gender", "S", "F", "19700101", "20991231", ""],
    [
        "201826",
        "Type 2 diabetes mellitus",
        "Condition",
        "SNOMED",
        "Clinical Finding",
        "S",
        "44054006",
        "19700101",
        "20991231",
        "",
    ],
    [
        "45576876",
        'Type 2 diabetes mellitus, "without" complications',
        "Condition",
        "ICD10CM",
        "5-char billing code",
        "",
        "E11.9",
        "20070101",
        "20991231",
        "",
    ],
    ["1503297", "metformin", "Drug", "RxNorm", "Ingredient", "S", "6809", "19700101", "20991231", ""],
    [
        "3004410",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        "Measurement",
        "LOINC",
        "Lab Test",
        "S",
        "4548-4",
        "19700101",
        "20991231",
        "",
    ],
    ["9201", "Inpatient Visit", "Visit", "Visit", "Visit", "S", "IP", "19700101", "20991231", ""],
    ["9202", "Outpatient Visit", "Visit", "Visit", "Visit", "S", "OP", "19700101", "20991231", ""],
    ["32817", "EHR", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976890", "20170101", "20991231", ""],
    ["44814724", "Maps to", "Metadata", "Relationship", "Relationship", "", "OMOP4841", "19700101", "20991231", ""],
    ["1", "Old code", "Condition", "SNOMED", "Clinical Finding", "", "999", "19700101", "20150331", "D"],
    ["44819096", "ICD10CM", "Metadata", "Vocabulary", "Vocabulary", "", "OMOP4822", "19700101", "20991231", ""],
]
RELATIONSHIPS = [
    ["45576876", "201826", "Maps to", "20070101", "20991231", ""],
    ["201826", "45576876", "Mapped from", "20070101", "20991231", ""],
]
VOCABULARIES = [
    ["None", "OMOP Standardized Vocabularies", "OMOP generated", "v5.0 30-AUG-24", "44819096"],
    ["SNOMED", "Systematic Nomenclature of Medicine", "http://www.snomed.org", "2024-03-01 SNOMED CT", "44819097"],
    ["ICD10CM", "ICD10CM", "http://www.cdc.gov", "ICD10CM FY2024", "44819098"],
]
DOMAINS = [["Condition", "Condition", "19"], ["Drug", "Drug", "13"], ["Gender", "Gender", "2"]]
ANCESTORS = [["201826", "201826", "0", "0"], ["1503297", "1503297", "0", "0"]]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")


def _athena_dir(root: Path, *, ancestor: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    # Upper-case header on CONCEPT: matching is case-insensitive.
    _write(root / "CONCEPT.csv", [h.upper() for h in CONCEPT_HEADER], CONCEPTS)
    _write(
        root / "CONCEPT_RELATIONSHIP.csv",
        ["concept_id_1", "concept_id_2", "relationship_id", "valid_start_date", "valid_end_date", "invalid_reason"],
        RELATIONSHIPS,
    )
    _write(
        root / "VOCABULARY.csv",
        ["vocabulary_id", "vocabulary_name", "vocabulary_reference", "vocabulary_version", "vocabulary_concept_id"],
        VOCABULARIES,
    )
    # Columns in a different order than the CDM.
    _write(
        root / "DOMAIN.csv", ["domain_concept_id", "domain_id", "domain_name"], [[r[2], r[0], r[1]] for r in DOMAINS]
    )
    if ancestor:
        _write(
            root / "CONCEPT_ANCESTOR.csv",
            ["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation", "max_levels_of_separation"],
            ANCESTORS,
        )
    return root


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [ATHENA_SCHEMA, table],
    ).fetchall()
    return dict(rows)


def _bump(path: Path) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def test_loads_typed_tables_with_counts(con, tmp_path: Path) -> None:
    load = load_athena_vocabulary(con, _athena_dir(tmp_path / "athena"))
    assert not load.reused
    assert load.tables["concept"] == len(CONCEPTS)
    assert load.tables["concept_relationship"] == 2
    assert load.tables["vocabulary"] == 3
    assert load.tables["domain"] == 3
    assert load.tables["concept_ancestor"] == 2

    types = _column_types(con, "concept")
    assert list(types) == CONCEPT_HEADER
    assert types["concept_id"] == "INTEGER"
    assert types["valid_start_date"] == "DATE"
    assert types["concept_name"] == "VARCHAR"
    assert _column_types(con, "domain") == {
        "domain_id": "VARCHAR",
        "domain_name": "VARCHAR",
        "domain_concept_id": "INTEGER",
    }

    name, start, end, invalid, standard = con.execute(
        f"SELECT concept_name, valid_start_date, valid_end_date, invalid_reason, standard_concept "
        f"FROM {ATHENA_SCHEMA}.concept WHERE concept_id = 45576876"
    ).fetchall()[0]
    assert name == 'Type 2 diabetes mellitus, "without" complications'
    assert start == dt.date(2007, 1, 1) and end == dt.date(2099, 12, 31)
    assert invalid is None and standard is None
    assert con.execute(f"SELECT invalid_reason FROM {ATHENA_SCHEMA}.concept WHERE concept_id = 1").fetchall() == [
        ("D",)
    ]

    # Non-standard ICD10CM code maps to the standard SNOMED concept.
    mapped = con.execute(
        f"SELECT c2.concept_id, c2.standard_concept FROM {ATHENA_SCHEMA}.concept c1 "
        f"JOIN {ATHENA_SCHEMA}.concept_relationship r ON r.concept_id_1 = c1.concept_id AND r.relationship_id = 'Maps to' "
        f"JOIN {ATHENA_SCHEMA}.concept c2 ON c2.concept_id = r.concept_id_2 WHERE c1.concept_code = 'E11.9'"
    ).fetchall()
    assert mapped == [(201826, "S")]

    summary = vocabulary_summary(con)
    assert summary["vocabulary_version"] == "v5.0 30-AUG-24"
    assert summary["concepts"] == len(CONCEPTS)
    assert summary["concepts_by_vocabulary"]["SNOMED"] == 2
    assert summary["tables"]["concept"] == len(CONCEPTS)


def test_second_call_reuses_then_touch_reloads(con, tmp_path: Path) -> None:
    directory = _athena_dir(tmp_path / "athena")
    first = load_athena_vocabulary(con, directory)
    second = load_athena_vocabulary(con, directory)
    assert second.reused and second.fingerprint == first.fingerprint
    assert second.tables == first.tables

    # Changing mtime (same content) is a new download.
    _bump(directory / "DOMAIN.csv")
    third = load_athena_vocabulary(con, directory)
    assert not third.reused and third.fingerprint != first.fingerprint

    # Changing size (new rows) reloads with the new counts.
    with (directory / "DOMAIN.csv").open("a", encoding="utf-8") as fh:
        fh.write("8\tVisit\tVisit\n")
    fourth = load_athena_vocabulary(con, directory)
    assert not fourth.reused and fourth.tables["domain"] == 4
    assert con.execute(f"SELECT count(*) FROM {ATHENA_SCHEMA}._load_manifest").fetchall() == [(3,)]


def test_missing_required_file(con, tmp_path: Path) -> None:
    directory = _athena_dir(tmp_path / "athena")
    (directory / "CONCEPT.csv").unlink()
    with pytest.raises(VocabularyError, match=r"CONCEPT\.csv"):
        load_athena_vocabulary(con, directory)


def test_missing_directory(con, tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="nope"):
        load_athena_vocabulary(con, tmp_path / "nope")


def test_missing_required_column(con, tmp_path: Path) -> None:
    directory = _athena_dir(tmp_path / "athena")
    _write(directory / "DOMAIN.csv", ["domain_id", "domain_name"], [r[:2] for r in DOMAINS])
    with pytest.raises(VocabularyError, match=r"DOMAIN\.csv.*domain_concept_id"):
        load_athena_vocabulary(con, directory)


def test_optional_files_absent_give_empty_tables(con, tmp_path: Path) -> None:
    load = load_athena_vocabulary(con, _athena_dir(tmp_path / "athena", ancestor=False))
    for file_name in (
        "CONCEPT_ANCESTOR.csv",
        "CONCEPT_CLASS.csv",
        "RELATIONSHIP.csv",
        "CONCEPT_SYNONYM.csv",
        "DRUG_STRENGTH.csv",
    ):
        table = file_name.removesuffix(".csv").lower()
        assert load.tables[table] == 0
        assert list(_column_types(con, table)) == [c for c, _, _ in TABLE_COLUMNS[file_name]]
    assert _column_types(con, "drug_strength")["amount_value"] == "DOUBLE"
    assert _column_types(con, "concept_ancestor")["min_levels_of_separation"] == "INTEGER"


def test_failed_reload_keeps_previous_tables(con, tmp_path: Path) -> None:
    directory = _athena_dir(tmp_path / "athena")
    good = load_athena_vocabulary(con, directory)

    # A later file in the load order holds an unparseable date: the load fails part way.
    _write(
        directory / "CONCEPT.csv",
        CONCEPT_HEADER,
        [*CONCEPTS, ["2", "New", "Drug", "RxNorm", "Ingredient", "S", "1", "19700101", "20991231", ""]],
    )
    _write(
        directory / "CONCEPT_RELATIONSHIP.csv",
        ["concept_id_1", "concept_id_2", "relationship_id", "valid_start_date", "valid_end_date", "invalid_reason"],
        [*RELATIONSHIPS, ["1", "2", "Maps to", "not-a-date", "20991231", ""]],
    )
    with pytest.raises(VocabularyError, match=r"CONCEPT_RELATIONSHIP\.csv"):
        load_athena_vocabulary(con, directory)

    assert con.execute(f"SELECT count(*) FROM {ATHENA_SCHEMA}.concept").fetchall() == [(len(CONCEPTS),)]
    assert con.execute(f"SELECT count(*) FROM {ATHENA_SCHEMA}.concept_relationship").fetchall() == [(2,)]
    assert con.execute(f"SELECT count(*) FROM {ATHENA_SCHEMA}._load_manifest").fetchall() == [(1,)]
    assert vocabulary_summary(con)["concepts"] == good.tables["concept"]


def test_bad_integer_names_file(con, tmp_path: Path) -> None:
    directory = _athena_dir(tmp_path / "athena")
    _write(directory / "DOMAIN.csv", ["domain_id", "domain_name", "domain_concept_id"], [["X", "X", "abc"]])
    with pytest.raises(VocabularyError, match=r"DOMAIN\.csv"):
        load_athena_vocabulary(con, directory)
