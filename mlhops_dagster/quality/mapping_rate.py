"""Vocabulary mapping rate: the share of source rows that reached a standard concept, per source and domain.

A low rate means codes the vocabulary does not know (a new code system, a local code, a
missing Athena vocabulary): rows are kept with concept 0, but models cannot use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlhops_dagster.warehouse import Connection


@dataclass(frozen=True)
class MappingRate:
    source_table: str
    target_domain: str
    source_rows: int
    mapped_rows: int

    @property
    def rate(self) -> float:
        return self.mapped_rows / self.source_rows if self.source_rows else 1.0


def read_mapping_rates(con: Connection, relation: str = "omop_int.int__mapping_rate") -> list[MappingRate]:
    rows = con.execute(
        f"SELECT source_table, target_domain, source_rows, mapped_rows FROM {relation} ORDER BY source_table, target_domain"
    ).fetchall()
    return [MappingRate(str(s), str(d), int(n), int(m)) for s, d, n, m in rows]


def below_threshold(rates: list[MappingRate], min_rate: float) -> list[MappingRate]:
    """Pairs whose mapping rate is under ``min_rate`` (worst first)."""
    return sorted((r for r in rates if r.rate < min_rate), key=lambda r: r.rate)


def overall_rate(rates: list[MappingRate]) -> float:
    total = sum(r.source_rows for r in rates)
    return sum(r.mapped_rows for r in rates) / total if total else 1.0


def rate_records(rates: list[MappingRate], min_rate: float) -> list[dict]:
    """One record per (source table, domain), lowest rate first, flagged when under ``min_rate``."""
    return [
        {
            "source_table": r.source_table,
            "target_domain": r.target_domain,
            "source_rows": r.source_rows,
            "mapped_rows": r.mapped_rows,
            "rate": r.rate,
            "below_threshold": r.rate < min_rate,
        }
        for r in sorted(rates, key=lambda r: r.rate)
    ]
