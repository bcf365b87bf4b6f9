"""Candidate runs: the trained model, its search trials, its test-split evaluation, its model card.

Models are saved with the sklearn flavour's ``save_model`` (local, no tracking URI involved) in
cloudpickle format (the custom :class:`~mlhops_dagster.modeling.trainers.DPMLPClassifier` and
LightGBM do not serialise with MLflow's default "skops" format), with explicit pip requirements (no
requirement-inference subprocess) and ``pyfunc_predict_fn="predict_proba"``; the client then creates
the MLflow 3 logged model, uploads the saved folder to it and links it to the run, as
``mlflow.sklearn.log_model`` would, without the fluent API's global state.
"""

from __future__ import annotations

import importlib.metadata
import re
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlhops_dagster.links import DAGSTER_ASSET_URL_TAG, DAGSTER_RUN_URL_TAG, MLFLOW_NOTE_TAG
from mlhops_dagster.modeling.registry.base import (
    EVALUATION_DIR,
    MODEL_ARTIFACT,
    MODEL_CARD_DIR,
    MODEL_ID_TAG,
    PLOT_ARTIFACT_DIR,
    RegistryBase,
    finite_metrics,
    param_value,
)

if TYPE_CHECKING:
    from mlhops_dagster.modeling.search import SearchResult
    from mlhops_dagster.modeling.trainers import TrainedModel

__all__ = ["IMPORTANCE_TOP_K", "RunLogging"]

LINK_TAGS = (DAGSTER_RUN_URL_TAG, DAGSTER_ASSET_URL_TAG, MLFLOW_NOTE_TAG)
"""The tags linking a run back to Dagster (:mod:`mlhops_dagster.links`), which its search trials inherit."""
IMPORTANCE_TOP_K = 15  # features whose global importance is also a run metric (the CSV has them all)

_FAMILY_REQUIREMENTS = {
    "lightgbm": ["lightgbm"],
    "logistic_regression": [],
    "dp_mlp": ["torch"],
}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _pip_requirements(family: str) -> list[str]:
    pkgs = ["mlflow", "scikit-learn", "cloudpickle", "numpy", "pandas", *_FAMILY_REQUIREMENTS.get(family, [])]
    reqs = []
    for pkg in pkgs:
        try:
            reqs.append(f"{pkg}=={importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            reqs.append(pkg)
    return reqs


class RunLogging(RegistryBase):
    """Writing candidate runs and reading their artifacts back."""

    def log_candidate(
        self,
        trained: TrainedModel,
        X_train: pd.DataFrame,
        metrics: dict[str, float],
        tags: dict[str, str],
        plot_png: bytes | None = None,
        search: SearchResult | None = None,
    ) -> str:
        """Log one candidate as its own finished run (run name = model family) of the experiment; returns its id.

        Logs ``trained.params`` (+ ``privacy_*`` params and metrics for DP models), ``metrics``,
        ``tags`` (+ ``model_family``), the estimator as the run's logged model ``model`` (signature
        inferred from a sample of ``X_train`` and its ``predict_proba`` output, a 5-row input example;
        its id in the run tag ``mlhops.model_id``) and, if given, ``plot_png`` as ``plots/evaluation.png``.
        With a ``search``, each trial becomes a child run (:meth:`log_search_trials`) and the run records
        ``best_*`` params, the validation window and the ``search_trials`` / ``search_best_val_auroc`` metrics.
        A failure marks the run FAILED and is raised.
        """
        experiment_id = self.ensure_experiment()
        params = {"family": trained.family, **trained.params, **(search.parent_params() if search else {})}
        privacy = trained.privacy or {}
        params.update({f"privacy_{k}": v for k, v in privacy.items()})
        run_metrics = {
            **(metrics or {}),
            **(
                {"search_trials": float(len(search.trials)), "search_best_val_auroc": search.best.val_auroc}
                if search
                else {}
            ),
            **{f"privacy_{k}": v for k, v in privacy.items()},
        }
        run_tags = {str(k): str(v) for k, v in (tags or {}).items()}
        run_tags.setdefault("model_family", trained.family)
        logged_params = {k: param_value(v) for k, v in params.items()}

        run_id = self.client.create_run(experiment_id, run_name=trained.family, tags=run_tags).info.run_id
        try:
            if search is not None:
                self.log_search_trials(run_id, search)
            model_id = self._log_model(run_id, experiment_id, trained, X_train, logged_params, run_metrics)
            self.client.set_tag(run_id, MODEL_ID_TAG, model_id)
            if plot_png is not None:
                self._log_files(run_id, {"evaluation.png": plot_png}, PLOT_ARTIFACT_DIR)
        except BaseException:
            self.client.set_terminated(run_id, status="FAILED")
            raise
        self.client.set_terminated(run_id)
        return run_id

    def _log_model(
        self,
        run_id: str,
        experiment_id: str,
        trained: TrainedModel,
        X_train: pd.DataFrame,
        params: dict[str, str],
        metrics: dict[str, float],
    ) -> str:
        """Create the run's logged model, log the run's params and metrics (the metrics linked to the model,
        as ``log_model`` links them), save and upload the estimator; returns the logged model's id."""
        import mlflow.sklearn
        from mlflow.entities import LoggedModelOutput, LoggedModelStatus, Metric, Param
        from mlflow.models import Model, infer_signature

        sample = X_train.head(200)
        with suppress(TypeError, ValueError):  # numeric features: float64 schema tolerates NaN at scoring time
            sample = sample.astype("float64")
        signature = infer_signature(sample, np.asarray(trained.estimator.predict_proba(sample)))
        logged = self.client.create_logged_model(
            experiment_id, name=MODEL_ARTIFACT, source_run_id=run_id, params=params
        )
        try:
            self.client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
            timestamp = _now_ms()
            self.client.log_batch(
                run_id,
                metrics=[
                    Metric(k, v, timestamp, 0, model_id=logged.model_id) for k, v in finite_metrics(metrics).items()
                ],
                params=[Param(k, v) for k, v in params.items()],
            )
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / MODEL_ARTIFACT
                mlflow.sklearn.save_model(
                    sk_model=trained.estimator,
                    path=str(path),
                    mlflow_model=Model(
                        artifact_path=logged.artifact_location,
                        run_id=run_id,
                        model_uuid=logged.model_id,
                        model_id=logged.model_id,
                    ),
                    serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                    signature=signature,
                    input_example=sample.head(5),
                    pyfunc_predict_fn="predict_proba",
                    pip_requirements=_pip_requirements(trained.family),
                )
                self.client.log_model_artifacts(logged.model_id, str(path))
        except BaseException:
            self.client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
            raise
        self.client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
        return str(logged.model_id)

    def log_search_trials(self, parent_run_id: str, search: SearchResult) -> list[str]:
        """One finished child run per trial (tag ``mlflow.parentRunId``) with its params and ``val_auroc``;
        returns the child run ids in trial order."""
        from mlflow.entities import Metric, Param
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        parent = self.client.get_run(parent_run_id)
        links = {k: v for k, v in parent.data.tags.items() if k in LINK_TAGS}  # a trial links back like its parent
        child_ids = []
        for trial in search.trials:
            child = self.client.create_run(
                parent.info.experiment_id,
                run_name=f"{search.family}-trial-{trial.number}",
                tags={
                    MLFLOW_PARENT_RUN_ID: parent_run_id,
                    "model_family": search.family,
                    "search_trial": str(trial.number),
                    "best_trial": str(trial.number == search.best.number).lower(),
                    **links,
                },
            )
            self.client.log_batch(
                child.info.run_id,
                metrics=[Metric("val_auroc", trial.val_auroc, _now_ms(), 0)],
                params=[Param(k, param_value(v)) for k, v in trial.params.items()],
            )
            self.client.set_terminated(child.info.run_id)
            child_ids.append(child.info.run_id)
        return child_ids

    def log_evaluation(
        self,
        run_id: str,
        metrics: dict[str, float],
        plot_png: bytes | None = None,
        plots: dict[str, bytes] | None = None,
        tables: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        """Add (test) metrics to an existing candidate run, with ``plots/evaluation.png`` and ``plots/<name>.png``
        for each of ``plots`` and ``evaluation/<name>.csv`` for each of ``tables`` (subgroups, decision curve)."""
        from mlflow.entities import Metric

        timestamp = _now_ms()
        values = [Metric(k, v, timestamp, 0) for k, v in finite_metrics(metrics).items()]
        if values:
            self.client.log_batch(run_id, metrics=values)
        pngs = {**({"evaluation": plot_png} if plot_png is not None else {}), **(plots or {})}
        if pngs:
            self._log_files(run_id, {f"{name}.png": png for name, png in pngs.items()}, PLOT_ARTIFACT_DIR)
        if tables:
            self._log_files(
                run_id, {f"{name}.csv": frame.to_csv(index=False) for name, frame in tables.items()}, EVALUATION_DIR
            )

    def log_feature_importance(self, run_id: str, importance: pd.DataFrame, top_k: int = IMPORTANCE_TOP_K) -> None:
        """The candidate's global feature importance: ``evaluation/feature_importance.csv`` (every feature, ranked),
        the top ``top_k`` as metrics ``feature_importance/<feature>`` and the method as tag ``feature_importance_method``.

        ``importance``: :func:`~mlhops_dagster.modeling.evaluation.global_feature_importance`'s table.
        """
        from mlflow.entities import Metric, RunTag

        ranked = importance.reset_index(drop=True).assign(rank=lambda t: np.arange(1, len(t) + 1))
        self._log_files(
            run_id,
            {"feature_importance.csv": ranked[["rank", "feature", "importance", "method"]].to_csv(index=False)},
            EVALUATION_DIR,
        )
        timestamp = _now_ms()
        top = finite_metrics(
            {
                f"feature_importance/{_metric_name(f)}": v
                for f, v in zip(ranked["feature"][:top_k], ranked["importance"][:top_k], strict=True)
            }
        )
        methods = sorted(set(ranked["method"].astype(str)))
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, v, timestamp, 0) for k, v in top.items()],
            tags=[RunTag("feature_importance_method", ",".join(methods))] if methods else [],
        )

    def log_model_card(self, version: str, run_id: str, markdown: str, html: str, summary: str) -> str:
        """Log ``model_card/model_card.md`` and ``model_card/model_card.html`` on the version's run and set the
        registered version's description to ``summary`` plus where the card is; returns the card's artifact URI."""
        self._log_files(run_id, {"model_card.md": markdown, "model_card.html": html}, MODEL_CARD_DIR)
        card_uri = f"{self.client.get_run(run_id).info.artifact_uri.rstrip('/')}/{MODEL_CARD_DIR}/model_card.html"
        self.client.update_model_version(self.model_name, version, description=f"{summary}\n\nModel card: {card_uri}")
        self.client.set_model_version_tag(self.model_name, version, "model_card", f"{MODEL_CARD_DIR}/model_card.html")
        return card_uri

    def read_artifact(self, run_id: str, path: str) -> bytes | None:
        """The bytes of artifact ``path`` of run ``run_id`` (None when the run has no such artifact)."""
        from mlflow.exceptions import MlflowException

        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = self.client.download_artifacts(run_id, path, tmp)
            except (MlflowException, OSError):
                return None
            return Path(local).read_bytes() if Path(local).is_file() else None


def _metric_name(feature: str) -> str:
    """A feature name MLflow accepts in a metric key (letters, digits, ``_ - . / :`` and spaces)."""
    return re.sub(r"[^\w\-./: ]", "_", str(feature))
