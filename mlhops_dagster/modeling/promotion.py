"""The champion/challenger promotion gate: explicit rules, every reason recorded.

A challenger becomes ``champion`` only if, on the same frozen test window as the champion,
it is not worse beyond a tolerance, its worst subgroup is not left behind, it is calibrated
within bounds, and the data it was trained on passed the fatal data-quality checks. The
decision is data (:class:`GateDecision`): the Dagster asset shows it as a check result and
the registry keeps it as tags, so a rejected challenger is a visible outcome, not an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, TypeGuard

from sklearn.metrics import roc_auc_score

if TYPE_CHECKING:
    import pandas as pd

    from mlhops_dagster.modeling.registry import ModelRegistry


@dataclass(frozen=True)
class GatePolicy:
    """Configured limits of the gate (the defaults are deliberately conservative for a clinical model)."""

    auroc_tolerance: float = 0.01  # challenger AUROC >= champion AUROC - tolerance
    max_subgroup_auroc_gap: float = 0.10  # overall AUROC - worst subgroup AUROC
    calibration_slope_bounds: tuple[float, float] = (0.8, 1.25)
    require_data_quality: bool = True

    def __post_init__(self) -> None:
        low, high = self.calibration_slope_bounds
        if not (0 < low <= 1 <= high):
            raise ValueError(f"calibration_slope_bounds must bracket 1, got {self.calibration_slope_bounds}")
        if self.auroc_tolerance < 0 or self.max_subgroup_auroc_gap < 0:
            raise ValueError("auroc_tolerance and max_subgroup_auroc_gap must be >= 0")


@dataclass(frozen=True)
class GateRule:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    rules: tuple[GateRule, ...]
    challenger_version: str
    champion_version: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def reasons(self) -> list[str]:
        """Why not (the failed rules), or why (every rule) when promoted."""
        failed = [r for r in self.rules if not r.passed]
        return [f"{r.name}: {r.detail}" for r in (failed or self.rules)]

    @property
    def summary(self) -> str:
        verdict = "promote" if self.promote else "reject"
        return f"{verdict} version {self.challenger_version}: " + "; ".join(self.reasons)

    def records(self) -> list[dict[str, str | bool]]:
        """One record per rule (rule, passed, detail), in the order the gate applied them, for tables."""
        return [{"rule": r.name, "passed": r.passed, "detail": r.detail} for r in self.rules]


class ChampionScore(NamedTuple):
    """The champion the challenger is compared with: its version, its AUROC on the window, how that was obtained."""

    version: str | None
    auroc: float | None
    note: str


def champion_auroc(registry: ModelRegistry, window: pd.DataFrame, label: str) -> ChampionScore:
    """The champion's AUROC on the challenger's test window (re-scored), or its recorded one if it cannot score.

    Why: the gate compares like with like; a champion fitted on other feature columns cannot score the
    current table, so its recorded test AUROC stands in, and the note says so.
    """
    from mlhops_dagster.modeling.registry import CHAMPION, model_input

    try:
        info = registry.champion_info(CHAMPION)
    except LookupError:
        return ChampionScore(None, None, "no champion")
    try:
        model, _ = registry.load_model_by_alias(CHAMPION)
        scores = model.predict_proba(model_input(model, window))[:, 1]
        return ChampionScore(
            info.version, float(roc_auc_score(window[label], scores)), "re-scored on the challenger's test window"
        )
    except (KeyError, ValueError) as err:  # a champion trained on other feature columns
        recorded = info.metrics.get("test_auroc")
        return ChampionScore(
            info.version, recorded, f"champion could not score this window ({err}); its recorded test AUROC used"
        )


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(float(value))


def decide(
    challenger_version: str,
    challenger: dict[str, float],
    champion_version: str | None,
    champion_auroc: float | None,
    data_quality_failures: list[str],
    policy: GatePolicy = GatePolicy(),
    notes: tuple[str, ...] = (),
) -> GateDecision:
    """Apply the gate. ``challenger`` holds test-window metrics: ``auroc``, ``calibration_slope`` and
    ``worst_subgroup_auroc_gap`` (NaN when no subgroup was large enough); ``champion_auroc`` is the
    champion's AUROC on the same window (None when there is no champion). Without a champion
    (the first registered version) the performance comparison is not applicable and the absolute
    rules (fairness gap, calibration slope, data quality) alone decide."""
    rules: list[GateRule] = []
    auroc = challenger.get("auroc")
    if champion_version is None or champion_version == challenger_version:
        # nothing to compare with (the first version, or the champion itself): the absolute rules decide
        rules.append(
            GateRule(
                "performance",
                _finite(auroc),
                f"not applicable: no other champion to compare with; challenger AUROC {auroc:.3f}"
                if _finite(auroc)
                else "challenger AUROC undefined",
            )
        )
    elif not _finite(champion_auroc) or not _finite(auroc):
        rules.append(GateRule("performance", False, "AUROC undefined for the challenger or the champion"))
    else:
        floor = float(champion_auroc) - policy.auroc_tolerance
        rules.append(
            GateRule(
                "performance",
                float(auroc) >= floor,
                f"challenger AUROC {auroc:.3f} vs champion v{champion_version} {champion_auroc:.3f} "
                f"(minimum {floor:.3f} = champion - {policy.auroc_tolerance})",
            )
        )
    gap = challenger.get("worst_subgroup_auroc_gap")
    if _finite(gap):
        rules.append(
            GateRule(
                "fairness",
                float(gap) <= policy.max_subgroup_auroc_gap,
                f"worst subgroup AUROC gap {gap:.3f} (limit {policy.max_subgroup_auroc_gap})",
            )
        )
    else:
        rules.append(GateRule("fairness", True, "no subgroup large enough to compare (gap not computed)"))
    slope = challenger.get("calibration_slope")
    low, high = policy.calibration_slope_bounds
    rules.append(
        GateRule(
            "calibration",
            _finite(slope) and low <= float(slope) <= high,
            f"calibration slope {slope:.2f} (bounds {low}-{high})" if _finite(slope) else "calibration slope undefined",
        )
    )
    if policy.require_data_quality:
        rules.append(
            GateRule(
                "data_quality",
                not data_quality_failures,
                "fatal checks passed"
                if not data_quality_failures
                else "fatal checks failed: " + ", ".join(data_quality_failures[:10]),
            )
        )
    return GateDecision(all(r.passed for r in rules), tuple(rules), challenger_version, champion_version, notes)
