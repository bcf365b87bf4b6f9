"""Athena mode end to end through Dagster: a vocabulary folder in the settings, the code location's own assets.

The definitions are built from ``Settings(vocab_dir=...)`` in this process (the dbt project of
that mode has its own manifest, beside the demo one): real ``dg.materialize`` of those
definitions, a real dbt build into a DuckDB file, a real event log on an instance folder.

Cheapest subset: the raw layer is ingested directly (test_pipeline_integration covers
``raw_ehr_extract``); Dagster materialises ``athena_vocabulary``, then the dbt models upstream of
``omop/condition_occurrence`` and ``omop_int/int__mapping_rate`` with the mapping-rate check only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from mlhops_dagster.definitions import build_definitions
from mlhops_dagster.ehr.ingest import ingest_extract
from mlhops_dagster.quality.mapping_rate import overall_rate, read_mapping_rates
from mlhops_dagster.settings import Settings
from mlhops_dagster.synthetic import UNMAPPED_CONDITION, DefectSpec, generate_extract
from tests.support.athena_download import PNEUMONIA_CONCEPT, write_athena_directory

pytestmark = pytest.mark.integration

KEY = "athena-dagster-key-0123456789abcdef"
CONDITION = dg.AssetKey(["omop", "condition_occurrence"])
MAPPING_RATE = dg.AssetKey(["omop_int", "int__mapping_rate"])
MAPPING_CHECK = dg.AssetCheckKey(MAPPING_RATE, "mapping_rate_above_threshold")


def materialise(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict:
    """Materialise Athena vocabulary, then the OMOP subset; return run id -> assets materialised, in run order."""
    assets = [*defs.assets, *defs.asset_checks]
    # Upstream of the two targets, less what is not built here: raw (ingested by the test), the vocabulary
    # (its own run) and the demo seeds (a demo-mode manifest lists them upstream; Athena mode never reads them).
    omop = (
        dg.AssetSelection.assets(CONDITION, MAPPING_RATE).upstream()
        - dg.AssetSelection.assets("raw_ehr_extract", "athena_vocabulary")
        - dg.AssetSelection.key_prefixes("vocab")
    ).without_checks()
    ran = {}
    # Two runs, vocabulary first: the dbt models read its tables (and a demo-mode manifest has no edge to it).
    for selection in (
        dg.AssetSelection.assets("athena_vocabulary"),
        omop | dg.AssetSelection.checks(MAPPING_CHECK),
    ):
        result = dg.materialize(assets, selection=selection, resources=defs.resources, instance=instance)
        assert result.success
        ran[result.run_id] = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
    return ran


@pytest.fixture(scope="module")
def athena_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("athena_dagster")
    data_dir, home, athena = root / "data", root / "dagster_home", write_athena_directory(root / "athena")
    extract = data_dir / "landing" / "athena_extract"
    generate_extract(
        extract,
        patients=30,
        seed=43,
        sites=1,
        start=dt.date(2020, 1, 1),
        end=dt.date(2021, 12, 31),
        defects=[DefectSpec("unmapped_codes", 0.1)],
    )
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        ingest_extract(con, extract, "athena_extract", KEY)
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # no network at run time
    settings = Settings(data_dir=data_dir, vocab_dir=athena, pseudonym_key=KEY)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ran = materialise(build_definitions(settings), instance)
    return data_dir / "warehouse.duckdb", home, ran


def test_the_cdm_maps_codes_through_the_athena_vocabulary(athena_run) -> None:
    warehouse, _, ran = athena_run
    vocabulary_run, omop_run = ran.values()
    assert vocabulary_run == ["athena_vocabulary"]
    assert {CONDITION.to_user_string(), MAPPING_RATE.to_user_string()} <= set(omop_run)
    assert "omop/drug_era" not in omop_run and not any(k.startswith(("raw", "vocab/")) for k in omop_run)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw_pneumonia, mapped_pneumonia, unmapped = con.execute(
            "SELECT (SELECT count(*) FROM raw.conditions WHERE code = ?), "
            "(SELECT count(*) FROM omop.condition_occurrence WHERE condition_concept_id = ?), "
            "(SELECT count(*) FROM omop.condition_occurrence WHERE condition_concept_id = 0)",
            [UNMAPPED_CONDITION[0], PNEUMONIA_CONCEPT],
        ).fetchall()[0]
        athena_concepts = con.execute("SELECT count(*) FROM vocab_athena.concept").fetchall()[0][0]
    assert raw_pneumonia > 0 and mapped_pneumonia == raw_pneumonia  # the demo seeds would leave these at concept 0
    assert unmapped == 0 and athena_concepts > 90


def test_vocabulary_and_mapping_rate_are_on_the_materialisations(athena_run) -> None:
    warehouse, home, _ = athena_run
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        vocabulary = instance.get_latest_materialization_event(dg.AssetKey("athena_vocabulary"))
        mapping = instance.get_latest_materialization_event(MAPPING_RATE)
        check = instance.get_latest_asset_check_evaluation_record(MAPPING_CHECK)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rates = read_mapping_rates(con)
    vocab_meta = vocabulary.asset_materialization.metadata
    assert vocab_meta["reused"].value is False and vocab_meta["concepts"].value > 90
    assert "CONCEPT_ANCESTOR" in vocab_meta["warnings"].value
    # Every condition row maps, the injected "unmapped" code included (with the demo seeds 10 % would not).
    conditions = next(r for r in rates if (r.source_table, r.target_domain) == ("conditions", "Condition"))
    assert conditions.source_rows > 0 and conditions.rate == 1.0
    meta = mapping.asset_materialization.metadata
    assert meta["overall_mapping_rate"].value == round(overall_rate(rates), 4)
    shown = {(r.data["source_table"], r.data["target_domain"]): r.data for r in meta["mapping_rates"].records}
    assert shown["conditions", "Condition"]["mapped_rows"] == conditions.source_rows
    assert shown["conditions", "Condition"]["rate"] == 1.0
    # The check ran on this materialisation; it flags only what the tiny download lacks (CVX immunisations, allergies).
    evaluation = check.event.dagster_event.event_specific_data
    assert evaluation.metadata["overall_mapping_rate"].value == meta["overall_mapping_rate"].value
    low = evaluation.metadata["below_threshold"].value
    assert "conditions/" not in low and evaluation.passed == (low == "none")
