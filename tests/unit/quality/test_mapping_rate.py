"""The vocabulary mapping rate per source table and domain, and the pairs under the threshold."""

from __future__ import annotations

import duckdb

from mlhops_dagster.quality.mapping_rate import (
    below_threshold,
    overall_rate,
    rate_records,
    read_mapping_rates,
)


def test_mapping_rates_flag_pairs_under_the_threshold() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA omop_int")
    con.execute(
        "CREATE TABLE omop_int.int__mapping_rate AS SELECT * FROM (VALUES "
        "('conditions', 'Condition', 100, 97), ('observations', 'Measurement', 200, 120), "
        "('medications', 'Drug', 50, 50)) t(source_table, target_domain, source_rows, mapped_rows)"
    )
    rates = read_mapping_rates(con)
    low = below_threshold(rates, 0.9)
    assert [(r.source_table, round(r.rate, 2)) for r in low] == [("observations", 0.6)]
    assert below_threshold(rates, 0.5) == []
    assert round(overall_rate(rates), 4) == round(267 / 350, 4)
    records = rate_records(rates, 0.9)
    assert [r["source_table"] for r in records] == ["observations", "conditions", "medications"]  # lowest first
    assert records[0] == {
        "source_table": "observations",
        "target_domain": "Measurement",
        "source_rows": 200,
        "mapped_rows": 120,
        "rate": 0.6,
        "below_threshold": True,
    }
    assert [r["below_threshold"] for r in records] == [True, False, False]
    assert not any(r["below_threshold"] for r in rate_records(rates, 0.0))
