"""What a candidate run receives besides its model: evaluation tables and plots, feature importance, the card."""

from __future__ import annotations

import io

import pandas as pd

from mlhops_dagster.modeling.registry import IMPORTANCE_TOP_K, ModelRegistry


def _run(tmp_path) -> tuple[ModelRegistry, str]:
    registry = ModelRegistry(f"sqlite:///{tmp_path}/mlflow.db", "m", "exp", artifact_root=str(tmp_path / "artifacts"))
    return registry, registry.client.create_run(registry.ensure_experiment()).info.run_id


def test_feature_importance_is_a_csv_top_k_metrics_and_a_method_tag(tmp_path) -> None:
    registry, run_id = _run(tmp_path)
    importance = pd.DataFrame(
        {
            "feature": ["cond[250.00]", *[f"feat_{i:02d}" for i in range(19)]],
            "importance": [1.0 - i / 20 for i in range(20)],
            "method": "mean_abs_tree_shap",
        }
    )
    registry.log_feature_importance(run_id, importance)

    csv = pd.read_csv(io.BytesIO(registry.read_artifact(run_id, "evaluation/feature_importance.csv")))
    assert list(csv.columns) == ["rank", "feature", "importance", "method"]
    assert csv["rank"].tolist() == list(range(1, 21)) and csv["feature"].tolist() == importance["feature"].tolist()
    run = registry.client.get_run(run_id)
    logged = {k.removeprefix("feature_importance/"): v for k, v in run.data.metrics.items()}
    assert len(logged) == IMPORTANCE_TOP_K == 15
    assert logged["cond_250.00_"] == 1.0 and "feat_13" in logged and "feat_14" not in logged  # top 15 only
    assert run.data.tags["feature_importance_method"] == "mean_abs_tree_shap"


def test_evaluation_tables_plots_and_model_card_reach_the_run_and_version(tmp_path) -> None:
    registry, run_id = _run(tmp_path)
    registry.log_evaluation(
        run_id,
        {"test_auroc": 0.71, "test_calibration_slope": float("nan")},
        plot_png=b"\x89PNG combined",
        plots={"roc": b"\x89PNG roc"},
        tables={"subgroups": pd.DataFrame({"attribute": ["overall"], "n": [10]})},
    )
    run = registry.client.get_run(run_id)
    assert run.data.metrics == {"test_auroc": 0.71}  # NaN is not logged
    assert registry.read_artifact(run_id, "plots/evaluation.png") == b"\x89PNG combined"
    assert registry.read_artifact(run_id, "plots/roc.png") == b"\x89PNG roc"
    assert registry.read_artifact(run_id, "evaluation/subgroups.csv") == b"attribute,n\noverall,10\n"
    assert registry.read_artifact(run_id, "plots/missing.png") is None

    registry.client.create_registered_model("m")
    registry.client.create_model_version("m", source=str(tmp_path), run_id=run_id)
    uri = registry.log_model_card("1", run_id, "# card", "<html>card</html>", "lightgbm for x.")
    assert uri.endswith("model_card/model_card.html")
    assert registry.read_artifact(run_id, "model_card/model_card.md") == b"# card"
    version = registry.client.get_model_version("m", "1")
    assert version.description == f"lightgbm for x.\n\nModel card: {uri}"
    assert version.tags["model_card"] == "model_card/model_card.html"
