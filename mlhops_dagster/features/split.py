"""Train/test splits of a feature table: by time (the default) or by person.

:func:`temporal_split` puts the latest index dates in test, as a model meets later patients;
:func:`person_split` shuffles persons with a fixed seed, stratified by whether the person ever
had the outcome. Either way a date, or a person, is never on both sides.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from mlhops_dagster.features.columns import LABEL_COLUMN

SplitMethod = Literal["temporal", "person"]


def _check_fraction(test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")


def temporal_split(features: pd.DataFrame, test_fraction: float = 0.25, date_column: str = "index_date") -> pd.Series:
    """Label each row ``"train"`` or ``"test"`` by time: the latest index dates form the test set.

    The cut is made on a date (every row of a date lands on the same side), choosing the
    cut whose test share is closest to ``test_fraction`` while keeping both sides
    non-empty. Needs at least two distinct dates. Returns a Series aligned with
    ``features.index``, named ``"split"``.
    """
    _check_fraction(test_fraction)
    if features.empty:
        return pd.Series([], index=features.index, dtype=object, name="split")
    dates = pd.to_datetime(features[date_column])
    if dates.isna().any():
        raise ValueError(f"{date_column} has missing values; cannot split by time")
    counts = dates.value_counts().sort_index()
    if len(counts) < 2:
        raise ValueError(f"temporal_split needs at least two distinct {date_column} values")
    n = len(dates)
    rows_from_date = n - (counts.cumsum() - counts)  # rows on or after each date
    test_share = (rows_from_date / n).iloc[1:]  # the first date always stays in train
    distance = (test_share - test_fraction).abs().to_numpy()
    cutoff = test_share.index[int(np.argmin(distance))]  # first minimum: larger test on ties
    split = np.where(dates >= cutoff, "test", "train")
    return pd.Series(split, index=features.index, dtype=object, name="split")


def person_split(
    features: pd.DataFrame,
    test_fraction: float = 0.25,
    seed: int = 42,
    label_column: str = LABEL_COLUMN,
    person_column: str = "person_id",
) -> pd.Series:
    """Label each row ``"train"`` or ``"test"`` by person: all rows of a person land on one side.

    Persons are split with scikit-learn's ``train_test_split`` (fixed ``seed``), stratified by
    whether the person ever had the outcome, so both sides keep the outcome rate; when a class
    has fewer than two persons the split is unstratified. Needs at least two persons. Returns a
    Series aligned with ``features.index``, named ``"split"``.
    """
    from sklearn.model_selection import train_test_split  # scikit-learn is slow to import; only this needs it

    _check_fraction(test_fraction)
    if features.empty:
        return pd.Series([], index=features.index, dtype=object, name="split")
    persons = features.groupby(person_column, sort=True)[label_column].max()
    if len(persons) < 2:
        raise ValueError("person_split needs at least two persons")
    classes = persons.value_counts()
    stratify = persons.to_numpy() if len(classes) > 1 and classes.min() >= 2 else None
    n_test = min(max(1, round(test_fraction * len(persons))), len(persons) - 1)
    if stratify is not None:  # each class needs a place on both sides
        n_test = min(max(n_test, len(classes)), len(persons) - len(classes))
    _, test_persons = train_test_split(persons.index.to_numpy(), test_size=n_test, random_state=seed, stratify=stratify)
    split = np.where(features[person_column].isin(set(test_persons.tolist())), "test", "train")
    return pd.Series(split, index=features.index, dtype=object, name="split")


def split_features(
    features: pd.DataFrame, method: SplitMethod = "temporal", test_fraction: float = 0.25, seed: int = 42
) -> pd.Series:
    """The ``split`` column by ``method``: ``"temporal"`` (default) or ``"person"``."""
    if method == "temporal":
        return temporal_split(features, test_fraction)
    if method == "person":
        return person_split(features, test_fraction, seed)
    raise ValueError(f"unknown split method {method!r}: use 'temporal' or 'person'")
