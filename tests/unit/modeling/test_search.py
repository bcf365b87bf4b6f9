"""Hyper-parameter search: temporal validation inside the training split, trials as MLflow child runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.metrics import roc_auc_score

from mlhops_dagster.features import LABEL_COLUMN
from mlhops_dagster.modeling.registry import ModelRegistry
from mlhops_dagster.modeling.search import SEARCH_GRIDS, hyperparameter_search, temporal_validation_mask
from mlhops_dagster.modeling.trainers import train_lightgbm, train_logistic_regression
from tests.unit.modeling.synthetic import make_data


@pytest.fixture(scope="module")
def train() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    X, y = make_data(n=900, p=10, seed=5)
    dates = pd.Series(pd.date_range("2018-01-01", periods=len(X), freq="D")).sample(frac=1.0, random_state=1)
    return X, y.rename(LABEL_COLUMN), dates.reset_index(drop=True)


def test_validation_rows_are_the_latest_fifth_of_training_dates() -> None:
    dates = pd.Series(pd.to_datetime(["2020-01-05", "2020-01-01", "2020-01-03", "2020-01-02", "2020-01-04"] * 2))
    mask = temporal_validation_mask(dates)
    assert mask.sum() == 2 and set(dates[mask]) == {pd.Timestamp("2020-01-05")}
    # rows sharing the cutoff date all go to validation: no date on both sides
    tied = pd.Series(pd.to_datetime(["2020-01-01"] * 6 + ["2020-01-02"] * 4))
    assert temporal_validation_mask(tied).sum() == 4
    with pytest.raises(ValueError, match="fraction"):
        temporal_validation_mask(dates, 1.0)


@pytest.mark.parametrize("family", sorted(SEARCH_GRIDS))
def test_search_picks_the_best_trial_by_validation_auroc(family, train) -> None:
    X, y, dates = train
    result = hyperparameter_search(family, X, y, dates, seed=3, max_trials=4)
    assert len(result.trials) == 4 and len({str(t.params) for t in result.trials}) == 4
    assert result.best.val_auroc == max(t.val_auroc for t in result.trials)
    assert result.validation_end == dates.max() and result.n_validation == 180 and result.n_fit == 720
    # the reported AUROC is the trial re-fitted on the earlier 80 % and scored on the latest 20 % of training rows
    val = (dates >= result.validation_start).to_numpy()
    fit = train_lightgbm if family == "lightgbm" else train_logistic_regression
    model = fit(X[~val], y[~val], seed=3, **result.best.params)
    assert roc_auc_score(y[val], model.estimator.predict_proba(X[val])[:, 1]) == result.best.val_auroc
    # seeded: the same seed draws the same grid points
    assert hyperparameter_search(family, X, y, dates, seed=3, max_trials=4).trials == result.trials


def test_logistic_search_covers_both_penalties_and_l1_is_sparser(train) -> None:
    X, y, dates = train
    result = hyperparameter_search("logistic_regression", X, y, dates, max_trials=6)
    assert {(t.params["penalty"], t.params["C"]) for t in result.trials} == {
        (p, c) for p in ("l1", "l2") for c in (0.1, 1.0, 10.0)
    }
    l1 = train_logistic_regression(X, y, C=0.1, penalty="l1").estimator.named_steps["clf"].coef_
    l2 = train_logistic_regression(X, y, C=0.1, penalty="l2").estimator.named_steps["clf"].coef_
    assert (l1 == 0).sum() > (l2 == 0).sum()


def test_search_refuses_a_split_without_both_classes(train) -> None:
    X, _, dates = train
    y = pd.Series((dates < dates.quantile(0.8)).astype(int).to_numpy())  # validation rows all negative
    with pytest.raises(ValueError, match="single class"):
        hyperparameter_search("lightgbm", X, y, dates, max_trials=1)
    with pytest.raises(ValueError, match="no search grid"):
        hyperparameter_search("dp_mlp", X, y, dates)


def test_trials_are_child_runs_of_the_candidate_run(tmp_path, train) -> None:
    X, y, dates = train
    search = hyperparameter_search("lightgbm", X, y, dates, max_trials=3)
    trained = train_lightgbm(X, y, **search.best.params)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    registry = ModelRegistry(uri, "m", "search_test", artifact_root=str(tmp_path / "artifacts"))
    parent = registry.log_candidate(trained, X, metrics={}, tags={"dagster_run_id": "r"}, search=search)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("search_test").experiment_id
    children = client.search_runs([experiment], filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    assert len(children) == 3 and all(c.info.status == "FINISHED" for c in children)
    best_child = max(children, key=lambda c: c.data.metrics["val_auroc"])
    assert best_child.data.tags["best_trial"] == "true"
    run = client.get_run(parent)
    assert run.info.status == "FINISHED" and run.data.metrics["search_trials"] == 3
    assert run.data.metrics["search_best_val_auroc"] == best_child.data.metrics["val_auroc"]
    for key, value in search.best.params.items():
        assert run.data.params[f"best_{key}"] == best_child.data.params[key] == str(value)
        assert run.data.params[key] == str(value)  # the refit on the whole training split used them
    assert run.data.params["search_validation_end"] == str(dates.max().date())
    assert np.isfinite(trained.estimator.predict_proba(X)).all()


def test_each_trial_is_logged_and_tabulated(train, caplog) -> None:
    X, y, dates = train
    with caplog.at_level("INFO", logger="mlhops_dagster.modeling.search"):
        result = hyperparameter_search("logistic_regression", X, y, dates, max_trials=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "mlhops_dagster.modeling.search"]
    assert len(lines) == 2 and lines[0].startswith("logistic_regression search trial 1/2 {")
    assert all("validation AUROC" in line and line.endswith("s") for line in lines)
    records = result.trial_records()
    assert [r["trial"] for r in records] == [0, 1] and sum(r["best"] for r in records) == 1
    assert {k for k in records[0] if k not in ("trial", "best", "validation_auroc")} == {"penalty", "C"}
    best = next(r for r in records if r["best"])
    assert best["validation_auroc"] == result.best.val_auroc and best["C"] == result.best.params["C"]
