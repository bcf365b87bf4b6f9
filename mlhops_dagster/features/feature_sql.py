"""Point-in-time feature SQL over the cohort: one pass per source table, every window from that pass.

Every feature reads only records that started strictly before the index date. Each source
table is joined once to the cohort and materialised (``b_<alias>``); the windows are derived
from that pass by conditional aggregation: per (index event, concept set) the smallest "days
since last active" for flags, ``FILTER``-ed counts per window for visits, and ``FILTER``-ed
latest/min/max/count for labs (``k_<alias>``, pivoted to one column per feature in
``p_<alias>``); distinct-concept counts aggregate the pass directly (``r_<alias>``). Each
feature kind has its pivot value and its final column expression in a registry below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mlhops_dagster.features.catalogue import CHARLSON_CATEGORIES, CharlsonCategory, FeatureSpec
from mlhops_dagster.features.schema import SOURCES
from mlhops_dagster.features.sql import date, quote, text
from mlhops_dagster.quality.elements import element_values_sql

ALIAS: dict[str, str] = {
    "condition_occurrence": "cond",
    "drug_exposure": "drug",
    "procedure_occurrence": "proc",
    "observation": "obs",
    "measurement": "meas",
    "visit_occurrence": "visit",
}
"""The short name of each source table in the CTE names of its pass."""

_KEYED_KINDS = ("event_flag", "visit_count", "measurement")
"""The kinds read per concept set (keyed, then pivoted to one column per feature)."""


def _gap(expr: str) -> str:
    """Days from ``expr`` (a date) to the index date: positive = before index."""
    return f"date_diff('day', {expr}, c.index_date)"


def _horizon(start: str, horizon: int | None) -> str:
    """Records older than every window of the pass are not read (``horizon``: the longest window)."""
    return "" if horizon is None else f" AND {start} >= c.index_date - {int(horizon)}"


def _longest(windows: Sequence[int | None], default: int | None = None) -> int | None:
    """The longest of ``windows``; ``None`` (no bound) when one of them is all history."""
    if any(w is None for w in windows):
        return None
    return max((w for w in windows if w is not None), default=default)


def window_tag(window: int | None) -> str:
    """The window's part of an aggregate column name: ``all`` or the number of days."""
    return "all" if window is None else str(int(window))


def within(window: int | None, gap: str = "start_gap") -> str:
    """A ``FILTER`` predicate: ``gap`` (days before index) inside ``window``."""
    return "TRUE" if window is None else f"{gap} <= {int(window)}"


def source_base(source: str, s: str, available: dict[str, set[str]], horizon: int | None = None) -> str:
    """One pass over ``source``: its records that started before each index date, with day gaps."""
    src = SOURCES[source]
    cols = available.get(source, set())
    start = date(f"x.{src.start}")
    if src.end and src.end in cols:
        open_end = "DATE '9999-12-31'" if src.null_end_is_ongoing else start
        active = f"COALESCE({date(f'x.{src.end}')}, {open_end})"
    else:
        active = start
    extra, where = "", ""
    if source == "visit_occurrence":
        extra = ", x.visit_occurrence_id"
        where = f" AND x.visit_occurrence_id IS DISTINCT FROM c.visit_occurrence_id AND {start} < c.visit_start_date"
    return f"""SELECT c.row_id, x.{src.concept} AS concept_id, {_gap(start)} AS start_gap,
           {_gap(active)} AS active_gap{extra}
    FROM cohort c
    JOIN {s}.{source} x ON x.person_id = c.person_id
    WHERE {start} < c.index_date{_horizon(start, horizon)}{where}"""


def _measurement_base(s: str, available: dict[str, set[str]], horizon: int | None = None) -> str:
    """The pass over the ML-DQA element values (harmonised, plausible), with a deterministic order key."""
    cols = available.get("measurement", set())
    start = "CAST(x.measurement_date AS DATE)"
    key = [start]
    if "measurement_datetime" in cols:  # a missing time sorts first within its day (as midnight)
        key.append(f"COALESCE(CAST(x.measurement_datetime AS TIMESTAMP), CAST({start} AS TIMESTAMP))")
    if "measurement_id" in cols:
        key.append("COALESCE(x.measurement_id, -1)")
    key.append("x.value")  # last-resort deterministic tie-break
    return f"""SELECT c.row_id, x.measurement_concept_id AS concept_id, {_gap(start)} AS start_gap, x.value,
           ({", ".join(key)}) AS order_key
    FROM cohort c
    JOIN (SELECT *, CAST(value_as_number AS DOUBLE) AS value
          FROM ({element_values_sql(s, columns=cols)}) ev WHERE value_as_number IS NOT NULL) x
      ON x.person_id = c.person_id
    WHERE {start} < c.index_date{_horizon(start, horizon)}"""


@dataclass
class FeatureSql:
    """The parts of the feature query: CTEs after the cohort's, joins onto ``cohort c``, one expression per feature."""

    ctes: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # feature id -> final SELECT expression


@dataclass(frozen=True)
class _Pass:
    """One pass over a source table: its features, the Charlson categories it scores, its CTE names."""

    source: str
    specs: list[FeatureSpec]
    charlson: list[CharlsonCategory]  # the scored categories when a charlson feature reads this source, else none

    def cte(self, prefix: str) -> str:
        return f"{prefix}_{ALIAS[self.source]}"

    def of_kind(self, *kinds: str) -> list[FeatureSpec]:
        return [sp for sp in self.specs if sp.kind in kinds]


def _base_ctes(p: _Pass, s: str, available: dict[str, set[str]]) -> list[str]:
    """The materialised pass, read no further back than its longest window needs."""
    if p.source != "measurement":
        # flags count records still active in the window, whatever their start: no horizon for them
        unbounded = any(sp.kind in ("event_flag", "charlson") for sp in p.specs)
        horizon = None if unbounded else _longest([sp.window for sp in p.specs])
        return [f"{p.cte('b')} AS MATERIALIZED (\n    {source_base(p.source, s, available, horizon)}\n)"]
    horizon = _longest([sp.window for sp in p.of_kind("measurement")], default=1)
    ctes = [f"{p.cte('b')} AS MATERIALIZED (\n    {_measurement_base(s, available, horizon)}\n)"]
    distinct = p.of_kind("distinct_concepts")
    if distinct:  # distinct concepts count every measurement, not only the harmonised elements
        horizon = _longest([sp.window for sp in distinct])
        ctes.append(f"b_mraw AS MATERIALIZED (\n    {source_base(p.source, s, available, horizon)}\n)")
    return ctes


def _concept_keys(p: _Pass) -> dict[tuple[int, ...], str]:
    """One key per distinct concept set of the pass, in first-seen order."""
    keys: dict[tuple[int, ...], str] = {}
    for spec in p.of_kind(*_KEYED_KINDS):
        keys.setdefault(tuple(spec.concept_ids), f"k{len(keys)}")
    for cat in p.charlson:
        keys.setdefault(tuple(cat.concept_ids), f"k{len(keys)}")
    return keys


def _keyed_aggregates(p: _Pass) -> list[str]:
    """Per (index event, concept set): last-active gap, visit counts or lab statistics, one per window."""
    windows = sorted(
        {sp.window for sp in p.of_kind("visit_count", "measurement")}, key=lambda w: -1 if w is None else w
    )
    if p.source == "measurement":
        aggs = []
        for w in windows:
            cond = within(w, "b.start_gap")
            aggs += [
                f"arg_max(b.value, b.order_key) FILTER (WHERE {cond}) AS latest_{window_tag(w)}",
                f"min(b.value) FILTER (WHERE {cond}) AS min_{window_tag(w)}",
                f"max(b.value) FILTER (WHERE {cond}) AS max_{window_tag(w)}",
                f"count(*) FILTER (WHERE {cond}) AS count_{window_tag(w)}",
            ]
        return aggs
    aggs = ["min(b.active_gap) AS active_gap"]
    if p.source == "visit_occurrence":
        aggs += [
            f"count(DISTINCT b.visit_occurrence_id) FILTER (WHERE {within(w, 'b.start_gap')}) AS n_{window_tag(w)}"
            for w in windows
        ]
    return aggs


def _flag_value(spec: FeatureSpec) -> str:
    return "1" if spec.window is None else f"CASE WHEN active_gap <= {int(spec.window)} THEN 1 ELSE 0 END"


def _visit_count_value(spec: FeatureSpec) -> str:
    return f"n_{window_tag(spec.window)}"


def _measurement_value(spec: FeatureSpec) -> str:
    return f"{spec.stat}_{window_tag(spec.window)}"


_PIVOT_VALUE: dict[str, Callable[[FeatureSpec], str]] = {
    "event_flag": _flag_value,
    "visit_count": _visit_count_value,
    "measurement": _measurement_value,
}
"""Per keyed kind: the aggregate of ``k_<alias>`` that becomes the feature's value."""


def _keyed_ctes(p: _Pass, keys: dict[tuple[int, ...], str]) -> list[str]:
    """``k_<alias>`` (aggregates per concept set) and ``p_<alias>`` (one column per feature)."""
    values = ", ".join(f"({text(k)}, {int(c)})" for concept_ids, k in keys.items() for c in concept_ids)
    keyed = f"""{p.cte("k")} AS (
    SELECT b.row_id, k.key, {", ".join(_keyed_aggregates(p))}
    FROM {p.cte("b")} b
    JOIN (VALUES {values}) AS k(key, concept_id) ON k.concept_id = b.concept_id
    GROUP BY b.row_id, k.key
)"""
    pivots = [
        f"MAX(CASE WHEN key = {text(keys[tuple(spec.concept_ids)])} THEN {_PIVOT_VALUE[spec.kind](spec)} END) "
        f"AS {quote(spec.id)}"
        for spec in p.of_kind(*_KEYED_KINDS)
    ]
    pivots += [
        f"MAX(CASE WHEN key = {text(keys[tuple(cat.concept_ids)])} THEN 1 END) AS {quote('charlson_' + cat.id)}"
        for cat in p.charlson
    ]
    pivot = f"{p.cte('p')} AS (\n    SELECT row_id,\n        " + ",\n        ".join(pivots)
    pivot += f"\n    FROM {p.cte('k')}\n    GROUP BY row_id\n)"
    return [keyed, pivot]


def _distinct_cte(p: _Pass, distinct: list[FeatureSpec]) -> str:
    """``r_<alias>``: distinct concepts per index event and window (all measurements, not only the elements)."""
    rows_from = "b_mraw" if p.source == "measurement" else p.cte("b")
    counts = ", ".join(
        f"count(DISTINCT concept_id) FILTER (WHERE {within(sp.window)}) AS {quote(sp.id)}" for sp in distinct
    )
    return f"{p.cte('r')} AS (\n    SELECT row_id, {counts}\n    FROM {rows_from}\n    GROUP BY row_id\n)"


def _charlson_score(p: _Pass) -> str:
    """Deyo-weighted sum of the categories present; of a superseding pair only the heavier weight counts."""
    present = {cat.id: f"COALESCE({p.cte('p')}.{quote('charlson_' + cat.id)}, 0)" for cat in p.charlson}
    superseded = {cat.supersedes for cat in p.charlson if cat.supersedes in present}
    terms = []
    for cat in p.charlson:
        if cat.id in superseded:
            continue
        lighter = next((c for c in p.charlson if c.id == cat.supersedes), None)
        if lighter is not None:
            terms.append(f"GREATEST({cat.weight} * {present[cat.id]}, {lighter.weight} * {present[lighter.id]})")
        else:
            terms.append(f"{cat.weight} * {present[cat.id]}")
    return f"CAST({' + '.join(terms) or '0'} AS INTEGER)"


def _count_column(spec: FeatureSpec, p: _Pass) -> str:
    return f"CAST(COALESCE({p.cte('p')}.{quote(spec.id)}, 0) AS INTEGER)"


def _measurement_column(spec: FeatureSpec, p: _Pass) -> str:
    """A lab count is 0 without values; a lab value stays NULL (NaN) when unmeasured."""
    if spec.stat == "count":
        return _count_column(spec, p)
    return f"CAST({p.cte('p')}.{quote(spec.id)} AS DOUBLE)"


def _distinct_column(spec: FeatureSpec, p: _Pass) -> str:
    return f"CAST(COALESCE({p.cte('r')}.{quote(spec.id)}, 0) AS INTEGER)"


def _charlson_column(spec: FeatureSpec, p: _Pass) -> str:
    return _charlson_score(p)


_COLUMN: dict[str, Callable[[FeatureSpec, _Pass], str]] = {
    "event_flag": _count_column,
    "visit_count": _count_column,
    "measurement": _measurement_column,
    "distinct_concepts": _distinct_column,
    "charlson": _charlson_column,
}
"""Per kind read from a source table: the final SELECT expression of the feature."""


def _source_pass(p: _Pass, s: str, available: dict[str, set[str]], out: FeatureSql) -> None:
    """Add the CTEs, joins and columns of one source table's features to ``out``."""
    out.ctes += _base_ctes(p, s, available)
    keys = _concept_keys(p)
    if keys:
        out.ctes += _keyed_ctes(p, keys)
        out.joins.append(f"LEFT JOIN {p.cte('p')} ON {p.cte('p')}.row_id = c.row_id")
    distinct = p.of_kind("distinct_concepts")
    if distinct:
        out.ctes.append(_distinct_cte(p, distinct))
        out.joins.append(f"LEFT JOIN {p.cte('r')} ON {p.cte('r')}.row_id = c.row_id")
    for spec in p.specs:
        out.columns[spec.id] = _COLUMN[spec.kind](spec, p)


def feature_sql(features: Sequence[FeatureSpec], s: str, available: dict[str, set[str]]) -> FeatureSql:
    """The CTEs, joins and column expressions of ``features`` over the cohort CTEs."""
    out = FeatureSql()
    by_source: dict[str, list[FeatureSpec]] = {}
    for spec in features:
        if spec.kind != "demographic":
            by_source.setdefault(spec.source, []).append(spec)
    scored = [c for c in CHARLSON_CATEGORIES if c.concept_ids]
    for source, specs in by_source.items():
        charlson = scored if any(sp.kind == "charlson" for sp in specs) else []
        _source_pass(_Pass(source, specs, charlson), s, available, out)
    for spec in features:
        if spec.kind == "demographic":
            out.columns[spec.id] = f"CAST({spec.expression} AS INTEGER)"
    return out
