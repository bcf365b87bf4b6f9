"""The one metadata-table helper: typed columns, rounded floats, plain scalars, small values kept."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from assets.metadata import table


def test_records_become_a_typed_table_with_rounded_and_plain_values() -> None:
    frame = pd.DataFrame(
        {
            "feature": ["age", "bmi"],
            "n": np.array([3, 4], dtype=np.int64),
            "auroc": [0.812345678, math.nan],
            "p_value": [1.234567e-9, 0.5],
            "drifted": [np.True_, np.False_],
        }
    )
    value = table(frame, descriptions={"auroc": "area under the ROC curve"})
    types = {c.name: c.type for c in value.schema.columns}
    assert types == {"feature": "string", "n": "int", "auroc": "float", "p_value": "float", "drifted": "bool"}
    assert next(c for c in value.schema.columns if c.name == "auroc").description == "area under the ROC curve"
    first, second = (r.data for r in value.records)
    assert first == {"feature": "age", "n": 3, "auroc": 0.8123, "p_value": 1.23e-9, "drifted": True}
    assert second["auroc"] is None and second["p_value"] == 0.5 and type(second["n"]) is int


def test_columns_pick_and_order_and_missing_keys_are_none() -> None:
    value = table([{"a": 1, "b": "x"}, {"b": "y", "c": 2.0}], columns=["c", "a"])
    assert [c.name for c in value.schema.columns] == ["c", "a"]
    assert [r.data for r in value.records] == [{"c": None, "a": 1}, {"c": 2.0, "a": None}]
