"""Drift reports as MLflow runs, and the retraining decision the drift sensor applies."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlhops_dagster.links import mlflow_run_url
from mlhops_dagster.monitoring.drift import DriftResult

if TYPE_CHECKING:
    from mlhops_dagster.modeling.registry import ModelRegistry


def log_drift_run(
    registry: ModelRegistry,
    experiment: str,
    extract_id: str,
    champion_version: str,
    result: DriftResult,
    ui_url: str,
    tags: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """One MLflow run per drift report in ``experiment`` of the registry's store (created under its artifact
    root if missing): share drifted, per-feature scores and PSI, and the Evidently HTML; ``tags`` are added
    (the links back to the Dagster run)."""
    client = registry.client
    experiment_id = registry.ensure_experiment(experiment)
    run = client.create_run(
        experiment_id,
        run_name=f"drift-{extract_id}",
        tags={
            "extract_id": extract_id,
            "champion_version": str(champion_version),
            "drift_fingerprint": result.fingerprint,
            **(tags or {}),
        },
    )
    run_id = run.info.run_id
    client.log_metric(run_id, "share_drifted", result.share_drifted)
    client.log_metric(run_id, "n_drifted", result.n_drifted)
    for name, score in result.per_feature.items():
        client.log_metric(run_id, f"drift_score/{name}", float(score))
    for name, psi in result.psi.items():
        client.log_metric(run_id, f"psi/{name}", float(psi))
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "drift_report.html"
        html.write_text(result.html, encoding="utf-8")
        client.log_artifact(run_id, str(html))
    client.set_terminated(run_id)
    return run_id, mlflow_run_url(ui_url, experiment_id, run_id)


DRIFT_KEY_TAG = "mlhops/drift_key"
"""Tag of a run that acted on a drift: the drift's :meth:`RetrainingPolicy.decision_key`."""


@dataclass(frozen=True)
class RetrainingPolicy:
    """Retrain when the share of drifted features reaches ``threshold``, once per drift decision.

    A decision is about an extract (or month) against a champion version, not about the drift's
    figures: the same extract re-scored for the same champion (its share a little different) is the
    same decision, and a new champion makes a new one.
    """

    threshold: float = 0.3

    def should_retrain(self, share_drifted: float) -> bool:
        return share_drifted >= self.threshold

    @staticmethod
    def decision_key(partition: str, champion_version: str) -> str:
        return f"drift-{partition}-champion-v{champion_version}"
