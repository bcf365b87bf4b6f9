"""The features asset materialised by Dagster on the hand-made T2D CDM: task file and split from its config."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from assets.features import cohort_features
from mlhops_dagster.features import LABEL_COLUMN
from resources import FeatureStoreResource, WarehouseResource
from tests.support.cdm import insert_t2d_rows


def test_features_asset_runs_a_task_file_with_a_person_split(tmp_path: Path) -> None:
    """The asset's config picks the task file and the split; the task name and catalogue land in its metadata."""
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    insert_t2d_rows(con)
    con.close()
    result = dg.materialize(
        [cohort_features],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "feature_store": FeatureStoreResource(root=str(tmp_path / "features")),
        },
        run_config={
            "ops": {
                "cohort_features": {
                    "config": {"task_file": "t2d_incident_1y", "split": "person", "test_fraction": 0.34, "seed": 3}
                }
            }
        },
    )
    assert result.success
    metadata = result.asset_materializations_for_node("cohort_features")[0].metadata
    assert metadata["task"].value == "t2d_incident_1y" and metadata["split"].value == "person"
    assert metadata["positives"].value == 3 and metadata["dagster/row_count"].value == 6
    assert "charlson_index" in [r.data["id"] for r in metadata["feature_catalogue"].records]
    attrition = [r.data for r in metadata["cohort_attrition"].records]
    assert attrition[-1]["n_events"] == 6 and attrition[0]["removed_events"] == 0
    assert sum(r["removed_events"] for r in attrition) == attrition[0]["n_events"] - 6
    assert "cond_201826_365d" not in metadata["sparse_features_kept"].value  # excluded before index: never present
    con = duckdb.connect(str(warehouse), read_only=True)
    table = con.execute("SELECT * FROM features.cohort").df()
    con.close()
    assert table.groupby("person_id")["split"].nunique().max() == 1
    assert sorted(table.groupby("split")[LABEL_COLUMN].sum().tolist()) == [1, 2]  # stratified: 3 positives of 6

    bad = dg.materialize(
        [cohort_features],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "feature_store": FeatureStoreResource(root=str(tmp_path / "features")),
        },
        run_config={"ops": {"cohort_features": {"config": {"task_file": str(tmp_path / "missing.yaml")}}}},
        raise_on_error=False,
    )
    assert not bad.success
    failure = next(e for e in bad.all_events if e.is_step_failure)
    assert "missing.yaml" in failure.step_failure_data.user_failure_data.description
