"""Registered versions and aliases: registering the best candidate, the champion, the gate, rollback, history.

Aliases, not stages: registration sets only ``challenger``; the promotion gate alone moves
``champion`` (the first version included), and every move is appended to the registered model's
``mlhops.champion_history`` tag, which is what rollback walks back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlhops_dagster.modeling.registry.base import (
    CHALLENGER,
    CHAMPION,
    CHAMPION_HISTORY_TAG,
    MODEL_ID_TAG,
    RegistryBase,
)

if TYPE_CHECKING:
    from mlhops_dagster.modeling.promotion import GateDecision

__all__ = ["ModelVersionInfo", "RegistrationResult", "RollbackResult", "VersionRegistry"]


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


@dataclass
class RollbackResult:
    model_name: str
    from_version: str
    to_version: str

    @property
    def message(self) -> str:
        return f"{self.model_name}: champion moved from version {self.from_version} back to {self.to_version}"


class VersionRegistry(RegistryBase):
    """The registered model's versions, aliases and champion history."""

    def register_best(self, run_ids_by_auroc: dict[str, float]) -> RegistrationResult:
        """Register the run with the highest test AUROC as a new version with alias ``challenger``.

        Registration never sets ``champion``, not even on a model that has none: every version,
        the first included, becomes champion only through the promotion gate (:meth:`apply_gate`).
        The version is tagged with the decision, its test AUROC, the candidates compared and the
        source run's model family.  Its source is the run's model location (the logged model's
        artifact location), which is also what the registry stores for a ``models:/<id>`` source.
        """
        from mlflow.exceptions import MlflowException

        scored = {rid: float(a) for rid, a in run_ids_by_auroc.items() if a is not None and math.isfinite(float(a))}
        if not scored:
            raise ValueError(f"no candidate run with a finite AUROC: {run_ids_by_auroc!r}")
        run_id = max(scored, key=lambda rid: scored[rid])
        auroc = scored[run_id]

        run = self.client.get_run(run_id)
        try:
            self.client.create_registered_model(
                self.model_name,
                description=f"{self.model_name} risk model; versions are the best-AUROC candidate of a training run",
            )
        except MlflowException as exc:
            if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
                raise
        mv = self.client.create_model_version(
            name=self.model_name,
            source=self._model_location(run_id),
            run_id=run_id,
            model_id=run.data.tags.get(MODEL_ID_TAG),
            tags={"model_family": run.data.tags.get("model_family", run.data.params.get("family", ""))},
        )
        version = str(mv.version)
        self.client.set_registered_model_alias(self.model_name, CHALLENGER, version)
        try:
            current = str(self._version_by_alias(CHAMPION).version)
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
            self.client.set_model_version_tag(self.model_name, version, key, value)

        return RegistrationResult(
            model_name=self.model_name,
            version=version,
            run_id=run_id,
            auroc=auroc,
            aliases=[CHALLENGER],
            decision=decision,
        )

    def champion_info(self, alias: str = CHAMPION) -> ModelVersionInfo:
        """Registry facts about the version behind ``alias`` (LookupError if the alias does not exist)."""
        mv = self._version_by_alias(alias)
        run_tags: dict[str, str] = {}
        run_metrics: dict[str, float] = {}
        if mv.run_id:
            run = self.client.get_run(mv.run_id)
            run_tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
            run_metrics = dict(run.data.metrics)
        return ModelVersionInfo(
            model_name=self.model_name,
            version=str(mv.version),
            alias=alias,
            run_id=mv.run_id,
            source=str(mv.source or ""),
            aliases=list(mv.aliases or []),
            tags=run_tags,
            version_tags=dict(mv.tags or {}),
            metrics=run_metrics,
        )

    def history(self) -> list[str]:
        """The versions that held ``champion``, oldest first: what :meth:`rollback` walks back."""
        tags = self.client.get_registered_model(self.model_name).tags or {}
        return [v for v in tags.get(CHAMPION_HISTORY_TAG, "").split(",") if v]

    def apply_gate(self, decision: GateDecision) -> bool:
        """Record a gate decision on the challenger's version (tags ``gate_decision``, ``gate_reasons`` and
        ``gate_notes``: how the champion's figure was obtained) and, when it promotes, move ``champion`` to it;
        a rejected version loses ``challenger`` (the alias names a version still in the running). Returns whether
        ``champion`` moved."""
        version = str(decision.challenger_version)
        verdict = "promote" if decision.promote else "reject"
        self.client.set_model_version_tag(self.model_name, version, "gate_decision", verdict)
        self.client.set_model_version_tag(self.model_name, version, "gate_reasons", "; ".join(decision.reasons)[:5000])
        if decision.notes and decision.champion_version is not None:
            self.client.set_model_version_tag(self.model_name, version, "gate_notes", "; ".join(decision.notes)[:5000])
        if not decision.promote:
            aliases = self.client.get_registered_model(self.model_name).aliases
            if str(aliases.get(CHALLENGER)) == version:
                self.client.delete_registered_model_alias(self.model_name, CHALLENGER)
            return False
        try:
            current: str | None = str(self._version_by_alias(CHAMPION).version)
        except LookupError:  # no champion yet
            current = None
        if current == version:
            return False
        self.client.set_registered_model_alias(self.model_name, CHAMPION, version)
        history = self.history()
        if not history or history[-1] != version:
            history.append(version)
        self.client.set_registered_model_tag(self.model_name, CHAMPION_HISTORY_TAG, ",".join(history))
        return True

    def rollback(self) -> RollbackResult:
        """Move ``champion`` back to the version that held it before the current one.

        LookupError with a plain message when the model, its champion or an earlier champion does not exist.
        """
        try:
            current = str(self._version_by_alias(CHAMPION).version)
        except LookupError as exc:
            raise LookupError(f"model {self.model_name!r} has no champion to roll back ({exc})") from exc
        earlier = self.history()
        while earlier and earlier[-1] == current:
            earlier.pop()
        if not earlier:
            raise LookupError(
                f"model {self.model_name!r}: version {current} is its first champion; nothing to roll back to"
            )
        previous = earlier[-1]
        self.client.set_registered_model_alias(self.model_name, CHAMPION, previous)
        self.client.set_registered_model_tag(self.model_name, CHAMPION_HISTORY_TAG, ",".join(earlier))
        self.client.set_model_version_tag(
            self.model_name, current, "rolled_back", f"champion returned to version {previous}"
        )
        return RollbackResult(self.model_name, current, previous)
