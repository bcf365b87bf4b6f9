"""Model card of a registered model version, rendered as markdown and HTML from plain data.

Why: a clinical model is handed over with what it is for, what it was trained on, how well it
works overall and per subgroup, what it cost in privacy and which data-quality results it was
trained under (Mitchell et al., "Model Cards for Model Reporting"; TRIPOD items). The card is
built from values the caller collected (registry, feature table, check results): this module
queries nothing, so it renders the same card for the same facts and is tested without services.

HTML comes from the markdown through markdown-it (CommonMark + tables) with raw HTML disabled,
so any text in the card (task descriptions, parameter values) is escaped, never interpreted.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markdown_it import MarkdownIt

from mlhops_dagster.features import model_feature_columns
from mlhops_dagster.modeling.evaluation import IMPORTANCE_METHODS, demographics

__all__ = [
    "IMPORTANCE_ROWS",
    "ModelCard",
    "cohort_facts",
    "index_date_range",
    "parity_gaps",
    "quality_summary",
    "render_html",
    "render_markdown",
    "run_facts",
    "summary_line",
]

DEFAULT_INTENDED_USE = (
    "Decision support: rank patients at discharge by their risk of the outcome so that a care team can offer "
    "follow-up to the highest-risk patients. Not for use on its own to deny or ration care, on populations unlike "
    "the training cohort, or outside the time-at-risk it was trained for; scores are re-checked for drift on every "
    "new extract."
)
HEADLINE_METRICS = (
    ("AUROC", "auroc"),
    ("AUPRC", "auprc"),
    ("Brier score", "brier"),
    ("Scaled Brier", "scaled_brier"),
)
POINT_METRICS = (
    ("Calibration slope", "calibration_slope"),
    ("Calibration in the large", "calibration_in_the_large"),
    ("E-avg", "e_avg"),
    ("E90", "e90"),
    ("ECE", "ece"),
    ("Sensitivity at the operating threshold", "fixed_sensitivity"),
    ("PPV at the operating threshold", "fixed_ppv"),
    ("Net benefit at the operating threshold", "net_benefit_model_at_threshold"),
    ("Worst subgroup AUROC gap", "subgroup_worst_auroc_gap"),
    ("Test rows", "n"),
    ("Test positives", "n_positive"),
)
_COUNTS = frozenset({"n", "n_positive"})
IMPORTANCE_ROWS = 15  # features listed in the card's importance section
SECTIONS = (
    "Intended use",
    "Task definition",
    "Training data",
    "Model details",
    "Performance",
    "Subgroups",
    "Calibration",
    "Global feature importance",
    "Ethical considerations",
    "Privacy",
    "Data quality",
    "Lineage",
)


@dataclass(frozen=True)
class ModelCard:
    """The facts a card shows; every field is plain data (strings, numbers, lists, dicts, PNG bytes)."""

    model_name: str
    version: str
    family: str
    params: Mapping[str, Any]
    n_features: int
    task_name: str
    task_description: str
    task_definition: str
    cohort_size: int
    positives: int
    train_rows: int
    test_rows: int
    train_index_dates: tuple[str, str]
    test_index_dates: tuple[str, str]
    demographics: Mapping[str, Mapping[str, int]]  # training split: attribute -> group -> rows
    metrics: Mapping[str, float]  # test split (evaluate_candidate's keys)
    subgroups: list[Mapping[str, Any]]  # evaluate_candidate's subgroup table as records
    max_subgroup_auroc_gap: float  # the gate's fairness limit
    data_quality: Mapping[str, Any]  # quality_summary(...)
    lineage: Mapping[str, str]  # dagster_run_id, dbt_manifest_hash, data_fingerprint, mlflow_run_id
    extract_ids: list[str] = field(default_factory=list)
    privacy: Mapping[str, float] | None = None  # epsilon_spent, epsilon_target, delta, ... (DP models)
    calibration_png: bytes | None = None
    feature_importance: list[Mapping[str, Any]] = field(default_factory=list)  # feature, importance, method; ranked
    intended_use: str = DEFAULT_INTENDED_USE


def index_date_range(frame: pd.DataFrame) -> tuple[str, str]:
    """First and last index date of the rows, as ISO dates ("–", "–" for no rows)."""
    dates = pd.to_datetime(frame["index_date"])
    return (str(dates.min().date()), str(dates.max().date())) if len(dates) else ("–", "–")


def cohort_facts(features: pd.DataFrame, label: str) -> dict[str, Any]:
    """The card's facts about the data, from the feature table (``split`` column "train" / "test", outcome ``label``):
    input features, cohort size and positives, each split's rows and index dates, the training split's demographics."""
    train = features[features["split"] == "train"]
    test = features[features["split"] == "test"]
    return {
        "n_features": len(model_feature_columns(features)),
        "cohort_size": len(features),
        "positives": int(features[label].sum()),
        "train_rows": len(train),
        "test_rows": len(test),
        "train_index_dates": index_date_range(train),
        "test_index_dates": index_date_range(test),
        "demographics": demographics(train),
    }


def run_facts(params: Mapping[str, str], metrics: Mapping[str, float]) -> dict[str, Any]:
    """The card's facts about the training run: its hyper-parameters (without the family and the ``privacy_*`` ones)
    and the DP privacy accounting from its ``privacy_*`` metrics (None for a model trained without DP)."""
    privacy = {k.removeprefix("privacy_"): v for k, v in metrics.items() if k.startswith("privacy_")}
    return {
        "params": {k: v for k, v in params.items() if not k.startswith("privacy_") and k != "family"},
        "privacy": privacy or None,
    }


def quality_summary(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of the latest check results by status, and the fatal (ERROR-severity) checks that failed or errored
    (``results``: :func:`mlhops_dagster.quality.report.latest_results` rows)."""
    from mlhops_dagster.quality.report import fatal_failures

    rows = [dict(r) for r in results]
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row.get("status"))] = counts.get(str(row.get("status")), 0) + 1
    return {"total": len(rows), "by_status": dict(sorted(counts.items())), "fatal_failed": fatal_failures(rows)}


def parity_gaps(subgroups: list[Mapping[str, Any]], limit: float) -> list[dict[str, Any]]:
    """Per attribute, the AUROC gap (overall − worst group with enough rows) and the lowest parity ratios, flagged
    when the gap is above ``limit`` (the promotion gate's)."""
    overall = next((r for r in subgroups if r.get("attribute") == "overall"), None)
    overall_auroc = _number(overall.get("auroc")) if overall else None
    out = []
    for attribute in dict.fromkeys(r["attribute"] for r in subgroups if r.get("attribute") != "overall"):
        ok = [
            r
            for r in subgroups
            if r["attribute"] == attribute and r.get("status") == "ok" and _number(r.get("auroc")) is not None
        ]
        if not ok or overall_auroc is None:
            out.append({"attribute": attribute, "worst_group": None, "auroc_gap": None, "flagged": False})
            continue
        worst = min(ok, key=lambda r: float(r["auroc"]))
        gap = overall_auroc - float(worst["auroc"])
        ratios = {
            k: min((v for r in ok if (v := _number(r.get(f"{k}_ratio"))) is not None), default=None)
            for k in ("sensitivity", "ppv", "oe_ratio")
        }
        out.append(
            {
                "attribute": attribute,
                "worst_group": str(worst["group"]),
                "auroc_gap": gap,
                "flagged": gap > limit,
                **{f"min_{k}_ratio": v for k, v in ratios.items()},
            }
        )
    return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(value: Any, digits: int = 3) -> str:
    number = _number(value)
    if number is None:
        return "–"
    return f"{int(number):,}" if number.is_integer() and abs(number) >= 1 and digits == 0 else f"{number:.{digits}f}"


def _cell(value: Any) -> str:
    """Table-cell text: pipes escaped and newlines flattened, so a value cannot break the table."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def summary_line(card: ModelCard) -> str:
    """One sentence for the registry version's description."""
    m = card.metrics
    text = (
        f"{card.family} for {card.task_name}: test AUROC {_fmt(m.get('auroc'))} "
        f"(95% CI {_fmt(m.get('auroc_ci_low'))}–{_fmt(m.get('auroc_ci_high'))}), calibration slope "
        f"{_fmt(m.get('calibration_slope'), 2)}, trained on {card.train_rows:,} index events "
        f"({card.train_index_dates[0]} – {card.train_index_dates[1]})"
    )
    if card.privacy and "epsilon_spent" in card.privacy:
        text += f", DP ε {_fmt(card.privacy['epsilon_spent'], 2)}"
    return text + "."


def render_markdown(card: ModelCard) -> str:
    """The card as markdown (sections in :data:`SECTIONS` order)."""
    out = [
        f"# Model card: {_cell(card.model_name)} version {_cell(card.version)}",
        "",
        f"_{_cell(summary_line(card))}_",
        "",
        "## Intended use",
        "",
        card.intended_use,
        "",
    ]
    for section in (
        _task_section,
        _training_data_section,
        _model_details_section,
        _performance_section,
        _subgroups_section,
        _calibration_section,
        _importance_section,
        _ethics_section,
        _privacy_section,
        _data_quality_section,
    ):
        out += section(card)
    out += ["## Lineage", ""]
    out += _table(["field", "value"], [(k, v or "–") for k, v in card.lineage.items()])
    return "\n".join(out)


def _task_section(card: ModelCard) -> list[str]:
    return ["## Task definition", ""] + _table(
        ["field", "value"],
        [
            ("task", card.task_name),
            ("description", card.task_description or "–"),
            ("definition (cohort, index, time-at-risk, outcome)", card.task_definition or "–"),
        ],
    )


def _training_data_section(card: ModelCard) -> list[str]:
    out = ["## Training data", ""]
    positives_rate = card.positives / card.cohort_size if card.cohort_size else float("nan")
    out += _table(
        ["field", "value"],
        [
            ("extracts", ", ".join(card.extract_ids) or "not recorded (an existing CDM, not extracts)"),
            ("cohort size (index events)", f"{card.cohort_size:,}"),
            ("positives", f"{card.positives:,} ({_fmt(positives_rate)})"),
            (
                "training split",
                f"{card.train_rows:,} rows, index dates {card.train_index_dates[0]} – {card.train_index_dates[1]}",
            ),
            (
                "test split",
                f"{card.test_rows:,} rows, index dates {card.test_index_dates[0]} – {card.test_index_dates[1]}",
            ),
        ],
    )
    if card.demographics:
        out += ["Demographics of the training split:", ""]
        out += _table(
            ["attribute", "group", "rows"],
            [
                (attribute, group, f"{count:,}")
                for attribute, groups in card.demographics.items()
                for group, count in groups.items()
            ],
        )
    return out


def _model_details_section(card: ModelCard) -> list[str]:
    out = ["## Model details", ""]
    out += _table(["field", "value"], [("family", card.family), ("input features", card.n_features)])
    return out + _table(["parameter", "value"], sorted((str(k), v) for k, v in card.params.items()))


def _performance_section(card: ModelCard) -> list[str]:
    m = card.metrics
    out = [
        "## Performance",
        "",
        "On the held-out test split (later index dates than training); 95% bootstrap confidence intervals.",
        "",
    ]
    out += _table(
        ["metric", "value", "95% CI"],
        [
            (label, _fmt(m.get(key)), f"{_fmt(m.get(f'{key}_ci_low'))} – {_fmt(m.get(f'{key}_ci_high'))}")
            for label, key in HEADLINE_METRICS
        ],
    )
    return out + _table(
        ["metric", "value"],
        [(label, _fmt(m.get(key), 0 if key in _COUNTS else 3)) for label, key in POINT_METRICS if key in m],
    )


def _subgroups_section(card: ModelCard) -> list[str]:
    if not card.subgroups:
        return ["## Subgroups", "", "No subgroup metrics were computed.", ""]
    return ["## Subgroups", ""] + _table(
        ["attribute", "group", "n", "status", "prevalence", "AUROC", "AUROC ratio", "O/E", "sensitivity"],
        [
            (
                r.get("attribute"),
                r.get("group"),
                _fmt(r.get("n"), 0),
                r.get("status"),
                _fmt(r.get("prevalence")),
                _fmt(r.get("auroc")),
                _fmt(r.get("auroc_ratio"), 2),
                _fmt(r.get("oe_ratio"), 2),
                _fmt(r.get("sensitivity")),
            )
            for r in card.subgroups
        ],
    )


def _calibration_section(card: ModelCard) -> list[str]:
    if not card.calibration_png:
        return ["## Calibration", "", "No calibration plot was recorded.", ""]
    encoded = base64.b64encode(card.calibration_png).decode()
    return ["## Calibration", "", f"![calibration plot (test split)](data:image/png;base64,{encoded})", ""]


def _importance_section(card: ModelCard) -> list[str]:
    """The top features by global importance, and what the importance measures for this model family."""
    out = ["## Global feature importance", ""]
    if not card.feature_importance:
        return out + ["Global feature importance was not computed for this model.", ""]
    methods = list(dict.fromkeys(str(r.get("method", "")) for r in card.feature_importance))
    described = "; ".join(IMPORTANCE_METHODS.get(m, m) for m in methods)
    shown = card.feature_importance[:IMPORTANCE_ROWS]
    out += [f"Top {len(shown)} of {len(card.feature_importance)} features by {described}:", ""]
    return out + _table(
        ["rank", "feature", "importance"],
        [(rank, r.get("feature"), _fmt(r.get("importance"), 4)) for rank, r in enumerate(shown, start=1)],
    )


def _ethics_section(card: ModelCard) -> list[str]:
    out = [
        "## Ethical considerations",
        "",
        f"Parity over the subgroups above; an AUROC gap above the promotion gate's limit "
        f"({card.max_subgroup_auroc_gap}) is flagged and blocks promotion.",
        "",
    ]
    out += _table(
        [
            "attribute",
            "worst group",
            "AUROC gap",
            "lowest sensitivity ratio",
            "lowest PPV ratio",
            "lowest O/E ratio",
            "flag",
        ],
        [
            (
                g["attribute"],
                g["worst_group"] or "–",
                _fmt(g["auroc_gap"]),
                _fmt(g.get("min_sensitivity_ratio"), 2),
                _fmt(g.get("min_ppv_ratio"), 2),
                _fmt(g.get("min_oe_ratio_ratio"), 2),
                "**above the limit**"
                if g["flagged"]
                else "within the limit"
                if g["auroc_gap"] is not None
                else "too few rows to compare",
            )
            for g in parity_gaps(card.subgroups, card.max_subgroup_auroc_gap)
        ],
    )
    return out + [
        'Groups below the minimum size are listed as "too small" above and are not compared; a model that '
        "looks fair here can still be unfair to them.",
        "",
    ]


def _privacy_section(card: ModelCard) -> list[str]:
    out = ["## Privacy", ""]
    if card.privacy:
        out += [
            f"Trained with DP-SGD (Opacus): ε = {_fmt(card.privacy.get('epsilon_spent'), 2)} spent "
            f"(target {_fmt(card.privacy.get('epsilon_target'), 2)}) at δ = {card.privacy.get('delta')}; "
            f"noise multiplier {_fmt(card.privacy.get('noise_multiplier'), 3)}.",
            "",
        ]
    else:
        out += ["Not trained with differential privacy (no ε guarantee for the weights).", ""]
    return out + [
        "Patient ids are keyed pseudonyms (HMAC) assigned at ingest; names, addresses, SSNs and other direct "
        "identifiers are dropped before the warehouse and never reach features, models or MLflow.",
        "",
    ]


def _data_quality_section(card: ModelCard) -> list[str]:
    dq = card.data_quality
    out = [
        "## Data quality",
        "",
        f"Latest results of the {dq.get('total', 0)} data-quality checks on the training data:",
        "",
    ]
    out += _table(["status", "checks"], list(dict(dq.get("by_status", {})).items()))
    fatal = list(dq.get("fatal_failed", []))
    return out + [
        ("Fatal (ERROR-severity) checks failed: " + ", ".join(_cell(f) for f in fatal))
        if fatal
        else "No fatal (ERROR-severity) check failed.",
        "",
    ]


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left}img{max-width:100%}"
)


def render_html(card: ModelCard, markdown: str | None = None) -> str:
    """A standalone HTML page of the card (its markdown rendered with raw HTML disabled: text is escaped)."""
    body = _MARKDOWN.render(markdown if markdown is not None else render_markdown(card))
    title = _MARKDOWN.renderInline(f"Model card: {card.model_name} version {card.version}")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head>\n<body>\n{body}</body></html>\n"
    )
