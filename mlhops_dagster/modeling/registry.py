"""MLflow 3 logging of candidate models and the model registry (aliases, no stages).

Every function takes an explicit ``tracking_uri`` (e.g. ``sqlite:////abs/path/mlflow.db``);
the same URI is used as the registry URI.  MLflow's fluent API (needed by
``mlflow.sklearn.log_model`` / ``load_model``) reads process-global URIs, so those
calls run inside :func:`_mlflow_uris`, which sets the URIs and restores the previous
values (module globals *and* ``MLFLOW_TRACKING_URI`` / ``MLFLOW_REGISTRY_URI`` env
vars) afterwards, under a lock.

Models are logged with the sklearn flavor in cloudpickle format (the custom
:class:`~mlhops_dagster.modeling.trainers.DPMLPClassifier` and LightGBM do not
serialise with MLflow's default "skops" format), with explicit pip requirements
(no requirement-inference subprocess) and ``pyfunc_predict_fn="predict_proba"``.
Loading therefore needs ``mlhops_dagster`` importable and
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` not set to false.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from mlhops_dagster.modeling.search import SearchResult
    from mlhops_dagster.modeling.trainers import TrainedModel

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "ModelVersionInfo",
    "RegistrationResult",
    "champion_info",
    "load_model_by_alias",
    "load_run_model",
    "log_candidate",
    "log_evaluation",
    "log_model_card",
    "log_search_trials",
    "read_run_artifact",
    "register_best",
    "apply_gate",
    "rollback_champion",
    "RollbackResult",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_ARTIFACT = "model"
PLOT_ARTIFACT_DIR = "plots"
MODEL_ID_TAG = "mlhops.model_id"
CHAMPION_HISTORY_TAG = "mlhops.champion_history"  # registered-model tag: versions that held `champion`, oldest first

_URI_LOCK = threading.RLock()

_FAMILY_REQUIREMENTS = {
    "lightgbm": ["lightgbm"],
    "logistic_regression": [],
    "dp_mlp": ["torch"],
}


@dataclass
class RegistrationResult:
    model_name: str
    version: str
    run_id: str
    auroc: float
    aliases: list[str]  # aliases set on this version by this call (only `challenger`: the gate sets `champion`)
    decision: str


@dataclass
class ModelVersionInfo:
    model_name: str
    version: str
    alias: str
    run_id: str | None
    source: str
    aliases: list[str]
    tags: dict[str, str] = field(default_factory=dict)  # tags of the source run (training lineage)
    version_tags: dict[str, str] = field(default_factory=dict)  # tags on the registry version
    metrics: dict[str, float] = field(default_factory=dict)  # metrics of the source run


# --------------------------------------------------------------------------- #
# plumbing
# --------------------------------------------------------------------------- #
@contextmanager
def _mlflow_uris(tracking_uri: str) -> Iterator[None]:
    """Temporarily point MLflow's fluent API at ``tracking_uri`` (tracking + registry), then restore."""
    if not tracking_uri:
        raise ValueError("an explicit MLflow tracking URI is required")
    import mlflow
    from mlflow.tracking import _model_registry, _tracking_service

    tracking_utils = _tracking_service.utils
    registry_utils = _model_registry.utils
    with _URI_LOCK:
        old_tracking = getattr(tracking_utils, "_tracking_uri", None)
        old_registry = getattr(registry_utils, "_registry_uri", None)
        old_env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
        try:
            mlflow.set_tracking_uri(tracking_uri)
            mlflow.set_registry_uri(tracking_uri)
            yield
        finally:
            if hasattr(tracking_utils, "_tracking_uri"):
                tracking_utils._tracking_uri = old_tracking
            if hasattr(registry_utils, "_registry_uri"):
                registry_utils._registry_uri = old_registry
            for key, value in old_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def tracking_client(tracking_uri: str) -> MlflowClient:
    """A client on an explicit tracking URI (never MLflow's cwd-relative default), registry on the same store."""
    from mlflow import MlflowClient

    if not tracking_uri:
        raise ValueError("an explicit MLflow tracking URI is required")
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _as_uri(location: str) -> str:
    """A local directory path -> ``file://`` URI; URIs are passed through."""
    parsed = urlparse(location)
    if parsed.scheme and len(parsed.scheme) > 1:  # not a Windows drive letter
        return location
    return Path(location).expanduser().resolve().as_uri()


def ensure_experiment(client: MlflowClient, name: str, artifact_root: str | None) -> str:
    """The id of experiment ``name``, created under ``artifact_root/<name>`` when it does not exist yet."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = _as_uri(f"{artifact_root.rstrip('/')}/{name}") if artifact_root else None
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:  # created concurrently by another process
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def _pip_requirements(family: str) -> list[str]:
    pkgs = ["mlflow", "scikit-learn", "cloudpickle", "numpy", "pandas", *_FAMILY_REQUIREMENTS.get(family, [])]
    reqs = []
    for pkg in pkgs:
        try:
            reqs.append(f"{pkg}=={importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            reqs.append(pkg)
    return reqs


def _param_value(value: Any) -> str:
    text = json.dumps(value, default=str) if isinstance(value, (dict, list, tuple)) else str(value)
    return text[:6000]


def _finite_metrics(metrics: dict[str, float]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[key] = number
    return out


def _log_png(client: MlflowClient, run_id: str, png: bytes, filename: str = "evaluation.png") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / filename
        path.write_bytes(png)
        client.log_artifact(run_id, str(path), artifact_path=PLOT_ARTIFACT_DIR)


def _run_model_uri(client: MlflowClient, run_id: str) -> str:
    run = client.get_run(run_id)
    model_id = run.data.tags.get(MODEL_ID_TAG)
    return f"models:/{model_id}" if model_id else f"runs:/{run_id}/{MODEL_ARTIFACT}"


# --------------------------------------------------------------------------- #
# logging
# --------------------------------------------------------------------------- #
def log_candidate(
    tracking_uri: str,
    experiment: str,
    trained: TrainedModel,
    X_train: pd.DataFrame,
    metrics: dict[str, float],
    tags: dict[str, str],
    plot_png: bytes | None = None,
    artifact_root: str | None = None,
    search: SearchResult | None = None,
) -> str:
    """Log one candidate as its own MLflow run (run name = model family); returns the run id.

    With a ``search``, each trial becomes a child run (:func:`log_search_trials`) and the
    candidate's run records ``best_*`` params, the validation window and the ``search_trials``
    / ``search_best_val_auroc`` metrics.

    Logs ``trained.params`` (+ ``privacy_*`` params and metrics for DP models),
    ``metrics``, ``tags`` (+ ``model_family``), the estimator with the sklearn
    flavor under the name ``model`` (signature inferred from a sample of
    ``X_train`` and its ``predict_proba`` output, a 5-row input example,
    ``pyfunc_predict_fn="predict_proba"``) and, if given, ``plot_png`` as
    ``plots/evaluation.png``.  ``artifact_root`` (a directory path or URI) is
    used only when the experiment does not exist yet: its artifact location
    becomes ``<artifact_root>/<experiment>``.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    client = tracking_client(tracking_uri)
    experiment_id = ensure_experiment(client, experiment, artifact_root)

    sample = X_train.head(200)
    with suppress(TypeError, ValueError):  # numeric features: float64 schema tolerates NaN at scoring time
        sample = sample.astype("float64")
    proba = np.asarray(trained.estimator.predict_proba(sample))
    signature = infer_signature(sample, proba)
    input_example = sample.head(5)

    params = {"family": trained.family, **trained.params, **(search.parent_params() if search else {})}
    metrics = {
        **(metrics or {}),
        **(
            {"search_trials": float(len(search.trials)), "search_best_val_auroc": search.best.val_auroc}
            if search
            else {}
        ),
    }
    privacy = trained.privacy or {}
    params.update({f"privacy_{k}": v for k, v in privacy.items()})
    run_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    run_tags.setdefault("model_family", trained.family)

    with _mlflow_uris(tracking_uri):
        run_id = client.create_run(experiment_id, run_name=trained.family, tags=run_tags).info.run_id
        try:
            if search is not None:
                log_search_trials(tracking_uri, run_id, search)
            with mlflow.start_run(run_id=run_id):
                mlflow.log_params({k: _param_value(v) for k, v in params.items()})
                all_metrics = {**(metrics or {}), **{f"privacy_{k}": v for k, v in privacy.items()}}
                if all_metrics:
                    mlflow.log_metrics(_finite_metrics(all_metrics))
                info = mlflow.sklearn.log_model(
                    sk_model=trained.estimator,
                    name=MODEL_ARTIFACT,
                    serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                    signature=signature,
                    input_example=input_example,
                    pyfunc_predict_fn="predict_proba",
                    pip_requirements=_pip_requirements(trained.family),
                )
                if getattr(info, "model_id", None):
                    mlflow.set_tag(MODEL_ID_TAG, info.model_id)
                if plot_png is not None:
                    _log_png(client, run_id, plot_png)
        except BaseException:
            client.set_terminated(run_id, status="FAILED")
            raise
    return run_id


def log_search_trials(tracking_uri: str, parent_run_id: str, search: SearchResult) -> list[str]:
    """One finished child run per trial (tag ``mlflow.parentRunId``) with its params and ``val_auroc``;
    returns the child run ids in trial order."""
    import time

    from mlflow.entities import Metric, Param
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    client = tracking_client(tracking_uri)
    parent = client.get_run(parent_run_id)
    child_ids = []
    for trial in search.trials:
        child = client.create_run(
            parent.info.experiment_id,
            run_name=f"{search.family}-trial-{trial.number}",
            tags={
                MLFLOW_PARENT_RUN_ID: parent_run_id,
                "model_family": search.family,
                "search_trial": str(trial.number),
                "best_trial": str(trial.number == search.best.number).lower(),
            },
        )
        client.log_batch(
            child.info.run_id,
            metrics=[Metric("val_auroc", trial.val_auroc, int(time.time() * 1000), 0)],
            params=[Param(k, _param_value(v)) for k, v in trial.params.items()],
        )
        client.set_terminated(child.info.run_id)
        child_ids.append(child.info.run_id)
    return child_ids


def log_evaluation(
    tracking_uri: str,
    run_id: str,
    metrics: dict[str, float],
    plot_png: bytes | None = None,
    plots: dict[str, bytes] | None = None,
    tables: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Add (test) metrics to an existing candidate run, with ``plots/evaluation.png`` and ``plots/<name>.png``
    for each of ``plots`` and ``evaluation/<name>.csv`` for each of ``tables`` (subgroups, decision curve)."""
    import time

    from mlflow.entities import Metric

    client = tracking_client(tracking_uri)
    timestamp = int(time.time() * 1000)
    values = [Metric(k, v, timestamp, 0) for k, v in _finite_metrics(metrics).items()]
    if values:
        client.log_batch(run_id, metrics=values)
    if plot_png is not None:
        _log_png(client, run_id, plot_png)
    for name, png in (plots or {}).items():
        _log_png(client, run_id, png, filename=f"{name}.png")
    if tables:
        with tempfile.TemporaryDirectory() as tmp:
            for name, frame in tables.items():
                path = Path(tmp) / f"{name}.csv"
                frame.to_csv(path, index=False)
                client.log_artifact(run_id, str(path), artifact_path="evaluation")


MODEL_CARD_DIR = "model_card"


def read_run_artifact(tracking_uri: str, run_id: str, path: str) -> bytes | None:
    """The bytes of artifact ``path`` of run ``run_id`` (None when the run has no such artifact)."""
    from mlflow.exceptions import MlflowException

    client = tracking_client(tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
        except (MlflowException, OSError):
            return None
        return Path(local).read_bytes() if Path(local).is_file() else None


def log_model_card(
    tracking_uri: str, model_name: str, version: str, run_id: str, markdown: str, html: str, summary: str
) -> str:
    """Log ``model_card/model_card.md`` and ``model_card/model_card.html`` on the version's run and set the
    registered version's description to ``summary`` plus where the card is; returns the card's artifact URI."""
    client = tracking_client(tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in (("model_card.md", markdown), ("model_card.html", html)):
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            client.log_artifact(run_id, str(path), artifact_path=MODEL_CARD_DIR)
    card_uri = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{MODEL_CARD_DIR}/model_card.html"
    client.update_model_version(model_name, version, description=f"{summary}\n\nModel card: {card_uri}")
    client.set_model_version_tag(model_name, version, "model_card", f"{MODEL_CARD_DIR}/model_card.html")
    return card_uri


def load_run_model(tracking_uri: str, run_id: str) -> Any:
    """The sklearn estimator logged by :func:`log_candidate` in run ``run_id``."""
    import mlflow.sklearn

    uri = _run_model_uri(tracking_client(tracking_uri), run_id)
    with _mlflow_uris(tracking_uri):
        return mlflow.sklearn.load_model(uri)


# --------------------------------------------------------------------------- #
# registry
# --------------------------------------------------------------------------- #
def _version_by_alias(client: MlflowClient, model_name: str, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        hint = (
            " — no version has passed the promotion gate yet (see the `promotion_gate` check of `model_promotion`)"
            if alias == CHAMPION
            else ""
        )
        raise LookupError(
            f"registered model {model_name!r} has no version with alias {alias!r}{hint} ({exc.message})"
        ) from exc


def register_best(tracking_uri: str, model_name: str, run_ids_by_auroc: dict[str, float]) -> RegistrationResult:
    """Register the run with the highest test AUROC as a new version of ``model_name`` with alias ``challenger``.

    Registration never sets ``champion``, not even on a model that has none: every version,
    the first included, becomes champion only through the promotion gate (:func:`apply_gate`).
    The version is tagged with the decision, its test AUROC, the candidates compared and the
    source run's model family.
    """
    from mlflow.exceptions import MlflowException

    scored = {rid: float(a) for rid, a in run_ids_by_auroc.items() if a is not None and math.isfinite(float(a))}
    if not scored:
        raise ValueError(f"no candidate run with a finite AUROC: {run_ids_by_auroc!r}")
    run_id = max(scored, key=lambda rid: scored[rid])
    auroc = scored[run_id]

    client = tracking_client(tracking_uri)
    run = client.get_run(run_id)
    try:
        client.create_registered_model(
            model_name, description="30-day readmission risk; versions are the best-AUROC candidate of a training run"
        )
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    model_id = run.data.tags.get(MODEL_ID_TAG)
    source = f"models:/{model_id}" if model_id else f"runs:/{run_id}/{MODEL_ARTIFACT}"
    # the registry store resolves ``models:/<id>`` sources through MLflow's global tracking URI
    with _mlflow_uris(tracking_uri):
        mv = client.create_model_version(
            name=model_name,
            source=source,
            run_id=run_id,
            model_id=model_id,
            tags={"model_family": run.data.tags.get("model_family", run.data.params.get("family", ""))},
        )
    version = str(mv.version)
    client.set_registered_model_alias(model_name, CHALLENGER, version)
    try:
        current = str(_version_by_alias(client, model_name, CHAMPION).version)
        decision = f"challenger: best test AUROC; champion stays version {current} until the gate decides"
    except LookupError:
        decision = "challenger: best test AUROC; the model has no champion yet (the promotion gate decides)"

    for key, value in {
        "decision": decision,
        "selection_metric": "test_auroc",
        "test_auroc": f"{auroc:.6f}",
        "candidates": json.dumps(scored, sort_keys=True),
        **{k: run.data.tags[k] for k in ("dagster_run_id", "data_fingerprint") if k in run.data.tags},
    }.items():
        client.set_model_version_tag(model_name, version, key, value)

    return RegistrationResult(
        model_name=model_name, version=version, run_id=run_id, auroc=auroc, aliases=[CHALLENGER], decision=decision
    )


def champion_info(tracking_uri: str, model_name: str, alias: str = CHAMPION) -> ModelVersionInfo:
    """Registry facts about the version behind ``alias`` (LookupError if the alias does not exist)."""
    client = tracking_client(tracking_uri)
    mv = _version_by_alias(client, model_name, alias)
    run_tags: dict[str, str] = {}
    run_metrics: dict[str, float] = {}
    if mv.run_id:
        run = client.get_run(mv.run_id)
        run_tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
        run_metrics = dict(run.data.metrics)
    return ModelVersionInfo(
        model_name=model_name,
        version=str(mv.version),
        alias=alias,
        run_id=mv.run_id,
        source=mv.source,
        aliases=list(mv.aliases or []),
        tags=run_tags,
        version_tags=dict(mv.tags or {}),
        metrics=run_metrics,
    )


def load_model_by_alias(tracking_uri: str, model_name: str, alias: str = CHAMPION) -> tuple[Any, str]:
    """(sklearn estimator, version) for ``models:/<model_name>@<alias>``; LookupError if the alias is missing.

    The alias is resolved once and the model is loaded by that version number, so
    the returned version always matches the returned model even if the alias moves.
    """
    import mlflow.sklearn

    client = tracking_client(tracking_uri)
    mv = _version_by_alias(client, model_name, alias)
    version = str(mv.version)
    with _mlflow_uris(tracking_uri):
        model = mlflow.sklearn.load_model(f"models:/{model_name}/{version}")
    return model, version


def model_input(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """The columns ``model`` was fitted on, in its order, taken from ``features``.

    A feature table rebuilt since the model was trained can hold other columns (per-concept
    flags are kept by prevalence, so the set moves with the data): a model must be fed the
    columns it knows, never whatever the table now has. ValueError names the missing ones.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise ValueError("the model records no input column names (feature_names_in_); it cannot be scored safely")
    missing = [str(c) for c in names if c not in features.columns]
    if missing:
        raise ValueError(
            f"the feature table lacks {len(missing)} column(s) the model was trained on "
            f"({', '.join(missing[:10])}{', ...' if len(missing) > 10 else ''}); retrain on the current "
            "features"
        )
    return features.loc[:, [str(c) for c in names]]


# --------------------------------------------------------------------------- #
# promotion gate and rollback
# --------------------------------------------------------------------------- #
def _champion_history(client: MlflowClient, model_name: str) -> list[str]:
    tags = client.get_registered_model(model_name).tags or {}
    return [v for v in tags.get(CHAMPION_HISTORY_TAG, "").split(",") if v]


def _set_champion(client: MlflowClient, model_name: str, version: str) -> None:
    """Move `champion` to ``version`` and append it to the model's champion history (what rollback walks back)."""
    client.set_registered_model_alias(model_name, CHAMPION, version)
    history = _champion_history(client, model_name)
    if not history or history[-1] != version:
        history.append(version)
    client.set_registered_model_tag(model_name, CHAMPION_HISTORY_TAG, ",".join(history))


def apply_gate(tracking_uri: str, model_name: str, decision: Any) -> bool:
    """Record a :class:`~mlhops_dagster.modeling.promotion.GateDecision` on the challenger's version (tags) and,
    when it promotes, move `champion` to it. Returns whether `champion` moved."""
    client = tracking_client(tracking_uri)
    version = str(decision.challenger_version)
    client.set_model_version_tag(model_name, version, "gate_decision", "promote" if decision.promote else "reject")
    client.set_model_version_tag(model_name, version, "gate_reasons", "; ".join(decision.reasons)[:5000])
    if not decision.promote:
        return False
    try:
        current = str(_version_by_alias(client, model_name, CHAMPION).version)
    except LookupError:  # no champion yet
        current = None
    if current == version:
        return False
    _set_champion(client, model_name, version)
    return True


@dataclass
class RollbackResult:
    model_name: str
    from_version: str
    to_version: str

    @property
    def message(self) -> str:
        return f"{self.model_name}: champion moved from version {self.from_version} back to {self.to_version}"


def rollback_champion(tracking_uri: str, model_name: str) -> RollbackResult:
    """Move `champion` back to the version that held it before the current one.

    LookupError with a plain message when the model, its champion or an earlier champion does not exist.
    """
    client = tracking_client(tracking_uri)
    try:
        current = str(_version_by_alias(client, model_name, CHAMPION).version)
    except LookupError as exc:
        raise LookupError(f"model {model_name!r} has no champion to roll back ({exc})") from exc
    earlier = _champion_history(client, model_name)
    while earlier and earlier[-1] == current:
        earlier.pop()
    if not earlier:
        raise LookupError(f"model {model_name!r}: version {current} is its first champion; nothing to roll back to")
    previous = earlier[-1]
    client.set_registered_model_alias(model_name, CHAMPION, previous)
    client.set_registered_model_tag(model_name, CHAMPION_HISTORY_TAG, ",".join(earlier))
    client.set_model_version_tag(model_name, current, "rolled_back", f"champion returned to version {previous}")
    return RollbackResult(model_name, current, previous)
