"""The feature catalogue, in the spirit of OHDSI FeatureExtraction.

Every model input is one :class:`FeatureSpec` row: an id that encodes its window, a
description, a kind, a source table and a window of days before the index date. Nothing
at or after the index date is ever read: a record counts only when it *started* strictly
before the index date (for a discharge-indexed task, records from the stay itself dated
before the discharge day count).

Windows
-------
``window=N`` = the ``N`` days before the index date, ``[index - N, index)``; ``window=None``
= all prior history (ids end in ``_anytime``); demographics are taken at the index date.

Default catalogue (:func:`default_catalogue`)
---------------------------------------------
``age_at_index``, ``age_group_<lo>_<hi>`` (5-year age-group flags from the task's minimum age up
to 95-99, then ``age_group_100_plus``), ``sex_male``, ``race_white|black|asian|other``,
``ethnicity_hispanic``, ``index_month`` (1-12), ``index_year``; ``length_of_stay_days`` only
for tasks indexed at discharge (a visit-start index would make it a look into the future).

``cond_<group>_<w>``, ``drug_<group>_<w>``, ``proc_<group>_<w>``, ``obs_<group>_<w>`` for
``w`` in ``anytime``, ``365d``, ``180d``, ``30d``: 1 if a record of the concept-set group
(the ML-DQA concept-set elements of :data:`~mlhops_dagster.quality.elements.CONCEPT_SET_ELEMENTS`,
plus the procedure groups of :data:`PROCEDURE_GROUPS`) started before the index date and was
still *active* in the window: its end date (a missing condition end date = ongoing; tables or
rows without an end date use the start date) is on or after the window start. This is
FeatureExtraction's era-overlap reading: an ongoing chronic diagnosis counts in every window.

``lab_<element>_{latest,min,max,count}_365d``: the ML-DQA lab and vital elements
(:data:`~mlhops_dagster.quality.elements.MEASUREMENT_ELEMENTS`), read through
:func:`~mlhops_dagster.quality.elements.element_values_sql`: units harmonised to the
element's canonical unit, implausible and unconvertible values excluded. ``latest`` is the
most recent value (by date, then datetime, then id), NaN like ``min``/``max`` when there is
none; ``count`` is 0 then.

``visits_{inpatient,er,outpatient}_<w>``: visits (inpatient 9201+262, ER 9203+262,
outpatient 9202) that started in the window and before the index visit started (the index
visit itself never counts).

``n_{conditions,drugs,procedures,measurements}_365d``: distinct concepts with a record
starting in the 365 days before index (all measurement concepts, not only the elements).

``charlson_index``: Charlson comorbidity index with the Deyo weights (Quan et al. 2005 coding
as in FeatureExtraction), from any condition record before index; of each pair *diabetes /
diabetes with complications*, *mild / moderate-severe liver disease* and *malignancy /
metastatic tumour* only the heavier weight counts. The concept sets
(:data:`CHARLSON_CATEGORIES`) hold the SNOMED concepts the synthetic generator emits:
myocardial infarction (4329847), chronic pulmonary disease (258780 emphysematous/chronic
obstructive bronchitis) and diabetes without complications (201826 type 2 diabetes).
**No code in the demo data** for: congestive heart failure, peripheral vascular disease,
cerebrovascular disease, dementia, rheumatologic disease, peptic ulcer disease, mild liver
disease, diabetes with chronic complications, hemiplegia or paraplegia, renal disease, any
malignancy, moderate or severe liver disease, metastatic solid tumour, AIDS/HIV; a site adds their
standard concepts (with descendants) to score them.

Sparse concept features (data-dependent)
----------------------------------------
``cond_<concept_id>_<w>``, ``drug_<concept_id>_<w>``, ``proc_<concept_id>_<w>`` for ``w`` in
``365d`` and ``anytime``: one flag per concept with the same "active in the window" rule, kept
only when its prevalence among the cohort's index events is at least
:attr:`SparseConcepts.min_prevalence` (default 1 %). Which concepts survive depends on the
data, so the model inputs are read from the feature table
(:func:`~mlhops_dagster.features.columns.model_feature_columns`) and the kept list goes
into the asset metadata.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mlhops_dagster.features.task import PredictionTask
from mlhops_dagster.quality.elements import CONCEPT_SET_ELEMENTS, MEASUREMENT_ELEMENTS

FeatureKind = Literal["demographic", "event_flag", "visit_count", "measurement", "distinct_concepts", "charlson"]
Stat = Literal["latest", "min", "max", "count"]

_FEATURE_ID = re.compile(r"^[a-z][a-z0-9_]*$")

EVENT_SOURCES: dict[str, str] = {
    "condition_occurrence": "cond",
    "drug_exposure": "drug",
    "procedure_occurrence": "proc",
    "observation": "obs",
}
"""Tables an ``event_flag`` can read, with their feature-id prefix."""

WINDOWS: tuple[int | None, ...] = (None, 365, 180, 30)
"""The group-flag and visit-count windows: all history, long, medium and short term."""


def window_suffix(window: int | None) -> str:
    """``anytime`` or ``<N>d``: the last part of a feature id."""
    return "anytime" if window is None else f"{window}d"


_SPARSE_FLAG_ID = re.compile(r"^(" + "|".join(EVENT_SOURCES.values()) + r")_\d+_")
_SHORT_WINDOW_SUFFIXES = tuple(f"_{window_suffix(w)}" for w in WINDOWS if w is not None and w < 365)


CALENDAR_FEATURES = ("index_month", "index_year")
"""The index date's calendar: a later extract differs in them by construction, so drift never reads them
(they stay model inputs where the task has them)."""


def monitored_features(columns: Sequence[str]) -> list[str]:
    """The feature columns drift is measured on: each signal once, in its all-history and 365-day forms.

    The catalogue repeats most signals in 180- and 30-day windows, splits age into 5-year
    flags and adds per-concept flags kept by prevalence; testing every column would count one
    shift several times in the drifted share and cost Evidently about 0.14 s and 75 kB of HTML a
    column (317 columns: 46 s and a 24 MB report per extract at demo size). Left out: the
    180/30-day variants, the age-group flags (age itself is kept), the per-concept flags, and the
    calendar of the index date (:data:`CALENDAR_FEATURES`): every later-period extract "drifts" in
    ``index_year`` by construction, which says nothing about the population.
    """
    return [
        c
        for c in columns
        if not (
            c.endswith(_SHORT_WINDOW_SUFFIXES)
            or c.startswith("age_group_")
            or _SPARSE_FLAG_ID.match(c)
            or c in CALENDAR_FEATURES
        )
    ]


@dataclass(frozen=True)
class FeatureSpec:
    """One model input column, declared as data (kinds: see the module docstring).

    ``demographic``: ``expression`` is SQL over the cohort row ``c`` (``age_at_index``,
    ``gender_concept_id``, ``race_concept_id``, ``ethnicity_concept_id``, ``visit_start_date``,
    ``index_date``). ``event_flag`` / ``visit_count`` / ``measurement`` (with ``stat``) read
    ``concept_ids`` from ``source``; ``distinct_concepts`` counts every concept of ``source``;
    ``charlson`` scores :data:`CHARLSON_CATEGORIES` from ``condition_occurrence``.
    """

    id: str
    description: str
    kind: FeatureKind
    source: str
    concept_ids: tuple[int, ...] = ()
    window: int | None = None
    stat: Stat | None = None
    expression: str | None = None

    def __post_init__(self) -> None:
        if not _FEATURE_ID.match(self.id):
            raise ValueError(f"feature id {self.id!r} must be lower-case snake_case")
        if self.window is not None and (
            not isinstance(self.window, int) or isinstance(self.window, bool) or self.window <= 0
        ):
            raise ValueError(f"feature {self.id!r}: window must be a positive number of days or None")
        expected = {
            "demographic": {"person"},
            "event_flag": set(EVENT_SOURCES),
            "visit_count": {"visit_occurrence"},
            "measurement": {"measurement"},
            "distinct_concepts": {*EVENT_SOURCES, "measurement"},
            "charlson": {"condition_occurrence"},
        }[self.kind]
        if self.source not in expected:
            raise ValueError(f"feature {self.id!r}: unknown source {self.source!r} for kind {self.kind!r}")
        if self.kind == "demographic" and not self.expression:
            raise ValueError(f"demographic feature {self.id!r} needs an expression")
        if self.kind in ("event_flag", "visit_count", "measurement") and not self.concept_ids:
            raise ValueError(f"feature {self.id!r} needs concept_ids")
        if (self.kind == "measurement") != (self.stat is not None):
            raise ValueError(f"feature {self.id!r}: `stat` is for (only) measurement features")
        if self.kind in ("demographic", "charlson") and self.window is not None:
            raise ValueError(f"feature {self.id!r}: a {self.kind} feature has no window")

    @property
    def window_label(self) -> str:
        """How the window reads in the catalogue table."""
        if self.kind == "demographic":
            return "index date"
        return "all history before index" if self.window is None else f"{self.window} days before index"


@dataclass(frozen=True)
class ConceptGroup:
    """A named concept set of one event table (used where the ML-DQA elements have none)."""

    id: str
    description: str
    table: str
    concept_ids: tuple[int, ...]


PROCEDURE_GROUPS: tuple[ConceptGroup, ...] = (
    ConceptGroup(
        "coronary_revascularisation",
        "coronary revascularisation (PCI 4216130, CABG 4336464)",
        "procedure_occurrence",
        (4216130, 4336464),
    ),
    ConceptGroup("echocardiography", "echocardiography (4230911)", "procedure_occurrence", (4230911,)),
    ConceptGroup("chest_xray", "plain chest X-ray (4163872)", "procedure_occurrence", (4163872,)),
)
"""Procedure groups of the demo vocabulary (the ML-DQA elements have no procedure groups)."""


@dataclass(frozen=True)
class CharlsonCategory:
    """One Charlson category: its Deyo weight, the concepts that score it, and what it outranks."""

    id: str
    description: str
    weight: int
    concept_ids: tuple[int, ...] = ()
    supersedes: str | None = None  # the lighter category of the same pair, not counted when this one is present


CHARLSON_CATEGORIES: tuple[CharlsonCategory, ...] = (
    CharlsonCategory("myocardial_infarction", "myocardial infarction", 1, (4329847,)),
    CharlsonCategory("congestive_heart_failure", "congestive heart failure", 1),
    CharlsonCategory("peripheral_vascular_disease", "peripheral vascular disease", 1),
    CharlsonCategory("cerebrovascular_disease", "cerebrovascular disease", 1),
    CharlsonCategory("dementia", "dementia", 1),
    CharlsonCategory("chronic_pulmonary_disease", "chronic pulmonary disease", 1, (258780,)),
    CharlsonCategory("rheumatologic_disease", "rheumatologic disease", 1),
    CharlsonCategory("peptic_ulcer_disease", "peptic ulcer disease", 1),
    CharlsonCategory("mild_liver_disease", "mild liver disease", 1),
    CharlsonCategory("diabetes", "diabetes without chronic complications", 1, (201826,)),
    CharlsonCategory("diabetes_complications", "diabetes with chronic complications", 2, supersedes="diabetes"),
    CharlsonCategory("hemiplegia_paraplegia", "hemiplegia or paraplegia", 2),
    CharlsonCategory("renal_disease", "renal disease", 2),
    CharlsonCategory("malignancy", "any malignancy", 2),
    CharlsonCategory("severe_liver_disease", "moderate or severe liver disease", 3, supersedes="mild_liver_disease"),
    CharlsonCategory("metastatic_tumor", "metastatic solid tumour", 6, supersedes="malignancy"),
    CharlsonCategory("aids", "AIDS/HIV", 6),
)
"""Deyo's weights for Charlson's 17 categories; concepts only where the demo data has a code."""


@dataclass(frozen=True)
class SparseConcepts:
    """Per-concept occurrence flags, kept when at least ``min_prevalence`` of the index events have them."""

    min_prevalence: float = 0.01
    sources: tuple[str, ...] = ("condition_occurrence", "drug_exposure", "procedure_occurrence")
    windows: tuple[int | None, ...] = (365, None)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_prevalence <= 1.0:
            raise ValueError(f"min_prevalence must be in [0, 1], got {self.min_prevalence}")
        unknown = set(self.sources) - set(EVENT_SOURCES)
        if unknown:
            raise ValueError(f"sparse concept sources must be event tables, got {sorted(unknown)}")

    def spec(self, source: str, concept_id: int, window: int | None, name: str | None = None) -> FeatureSpec:
        """The flag of one concept in one window."""
        prefix = EVENT_SOURCES[source]
        label = f"concept {concept_id}" + (f" ({name})" if name else "")
        return FeatureSpec(
            f"{prefix}_{int(concept_id)}_{window_suffix(window)}",
            f"{source} record of {label} active in the window (kept by prevalence)",
            "event_flag",
            source,
            (int(concept_id),),
            window,
        )


DEFAULT_SPARSE = SparseConcepts()

_KNOWN_RACES = (8527, 8516, 8515)


def _demographics(task: PredictionTask) -> list[FeatureSpec]:
    def demo(id_: str, description: str, expression: str) -> FeatureSpec:
        return FeatureSpec(id_, description, "demographic", "person", expression=expression)

    specs = [demo("age_at_index", "Age in full years at the index date", "c.age_at_index")]
    top = 100 if task.max_age is None else task.max_age
    for low in range(task.min_age // 5 * 5, min(top, 95) + 1, 5):
        specs.append(
            demo(
                f"age_group_{low}_{low + 4}",
                f"1 if aged {low}-{low + 4} at index",
                f"CASE WHEN c.age_at_index BETWEEN {low} AND {low + 4} THEN 1 ELSE 0 END",
            )
        )
    if top >= 100:
        specs.append(
            demo(
                "age_group_100_plus",
                "1 if aged 100 or more at index",
                "CASE WHEN c.age_at_index >= 100 THEN 1 ELSE 0 END",
            )
        )
    known = ", ".join(str(r) for r in _KNOWN_RACES)
    specs += [
        demo(
            "sex_male",
            "1 if gender_concept_id is 8507 (male)",
            "CASE WHEN c.gender_concept_id = 8507 THEN 1 ELSE 0 END",
        ),
        demo(
            "race_white", "1 if race_concept_id is 8527 (White)", "CASE WHEN c.race_concept_id = 8527 THEN 1 ELSE 0 END"
        ),
        demo(
            "race_black", "1 if race_concept_id is 8516 (Black)", "CASE WHEN c.race_concept_id = 8516 THEN 1 ELSE 0 END"
        ),
        demo(
            "race_asian", "1 if race_concept_id is 8515 (Asian)", "CASE WHEN c.race_concept_id = 8515 THEN 1 ELSE 0 END"
        ),
        demo(
            "race_other",
            "1 if race is none of White/Black/Asian (incl. 0 = unknown)",
            f"CASE WHEN c.race_concept_id IN ({known}) THEN 0 ELSE 1 END",
        ),
        demo(
            "ethnicity_hispanic",
            "1 if ethnicity_concept_id is 38003563 (Hispanic or Latino)",
            "CASE WHEN c.ethnicity_concept_id = 38003563 THEN 1 ELSE 0 END",
        ),
        demo("index_month", "Calendar month of the index date (1-12)", "month(c.index_date)"),
        demo("index_year", "Calendar year of the index date", "year(c.index_date)"),
    ]
    if task.index.domain == "visit" and task.index.date == "visit_end":
        specs.append(
            demo(
                "length_of_stay_days",
                "Index stay length in days (discharge date - admission date)",
                "date_diff('day', c.visit_start_date, c.index_date)",
            )
        )
    return specs


_VISIT_TYPES = (
    ("inpatient", "inpatient stays (9201, 262)", (9201, 262)),
    ("er", "ER visits (9203, 262)", (9203, 262)),
    ("outpatient", "outpatient visits (9202)", (9202,)),
)

_DISTINCT = (
    ("conditions", "condition_occurrence"),
    ("drugs", "drug_exposure"),
    ("procedures", "procedure_occurrence"),
    ("measurements", "measurement"),
)


def _groups() -> list[ConceptGroup]:
    order = ("condition_occurrence", "drug_exposure", "procedure_occurrence", "observation")
    groups = [ConceptGroup(e.id, e.description, e.table, e.concept_ids) for e in CONCEPT_SET_ELEMENTS]
    groups += PROCEDURE_GROUPS
    return sorted(groups, key=lambda g: order.index(g.table))


def default_catalogue(task: PredictionTask) -> tuple[FeatureSpec, ...]:
    """The fixed part of the catalogue for ``task`` (sparse concept flags are added per data set)."""
    specs = _demographics(task)
    for group in _groups():
        prefix = EVENT_SOURCES[group.table]
        for window in WINDOWS:
            where = "any time before index" if window is None else f"in the {window} days before index"
            specs.append(
                FeatureSpec(
                    f"{prefix}_{group.id}_{window_suffix(window)}",
                    f"{group.description[0].upper()}{group.description[1:]}: a record active {where}",
                    "event_flag",
                    group.table,
                    group.concept_ids,
                    window,
                )
            )
    for name, description, concepts in _VISIT_TYPES:
        for window in WINDOWS:
            where = "before" if window is None else f"in the {window} days before"
            specs.append(
                FeatureSpec(
                    f"visits_{name}_{window_suffix(window)}",
                    f"Number of {description} started {where} index (not the index visit)",
                    "visit_count",
                    "visit_occurrence",
                    concepts,
                    window,
                )
            )
    for lab in MEASUREMENT_ELEMENTS:
        unit = lab.unit or "its scale"
        stats: tuple[tuple[Stat, str], ...] = (
            ("latest", f"Latest {lab.description} ({unit})"),
            ("min", f"Lowest {lab.description} ({unit})"),
            ("max", f"Highest {lab.description} ({unit})"),
            ("count", f"Number of plausible {lab.description} values"),
        )
        for stat, what in stats:
            specs.append(
                FeatureSpec(
                    f"lab_{lab.id}_{stat}_365d",
                    f"{what} in the 365 days before index (data element {lab.id}: units harmonised, "
                    "implausible values excluded)",
                    "measurement",
                    "measurement",
                    lab.concept_ids,
                    365,
                    stat=stat,
                )
            )
    for name, source in _DISTINCT:
        specs.append(
            FeatureSpec(
                f"n_{name}_365d",
                f"Distinct {source} concepts with a record in the 365 days before index",
                "distinct_concepts",
                source,
                window=365,
            )
        )
    specs.append(
        FeatureSpec(
            "charlson_index",
            "Charlson comorbidity index (Deyo weights) from condition records before index",
            "charlson",
            "condition_occurrence",
        )
    )
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids)), "duplicate feature ids"
    return tuple(specs)


def catalogue_records(specs: Sequence[FeatureSpec]) -> list[dict[str, str]]:
    """The catalogue as records (id, description, kind, window, source), one per feature, for a metadata table."""
    return [
        {"id": s.id, "description": s.description, "kind": s.kind, "window": s.window_label, "source": s.source}
        for s in specs
    ]
