"""Rewrite a generated (Synthea 3.3-shaped) extract into the column sets of older exporters.

The differences are those of the raw-extract contract (Synthea 2.7.0, 3.0.0, 3.2.0, 3.3.0), so
tests can prove every exporter version in the wild loads and maps.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

VERSIONS = ("2.7.0", "3.0.0", "3.2.0", "3.3.0")


def _rewrite(
    folder: Path,
    name: str,
    drop: tuple[str, ...] = (),
    rename: dict[str, str] | None = None,
    add: dict[str, str] | None = None,
    transform=None,
) -> None:
    path = folder / f"{name}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame.drop(columns=[c for c in drop if c in frame.columns]).rename(columns=rename or {})
    for column, value in (add or {}).items():
        frame[column] = value
    if transform is not None:
        frame = transform(frame)
    frame.to_csv(path, index=False)


def _years(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("START_YEAR", "END_YEAR"):
        frame[column] = frame[column].str[:4]
    return frame


def to_exporter_version(folder: Path, version: str) -> None:
    """Rewrite ``folder`` in place into the files an exporter of ``version`` writes."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Synthea exporter version {version}")
    if version == "3.3.0":
        return
    # 3.0.0 and 3.2.0 (and 2.7.0): no patients.MIDDLE, no SYSTEM on conditions/procedures, no NPI.
    _rewrite(folder, "patients", drop=("MIDDLE",) + (("FIPS", "INCOME") if version != "3.2.0" else ()))
    _rewrite(folder, "conditions", drop=("SYSTEM",))
    _rewrite(folder, "procedures", drop=("SYSTEM",))
    _rewrite(folder, "organizations", drop=("NPI",))
    if version == "3.2.0":
        _rewrite(folder, "providers", drop=("NPI",))
        return
    _rewrite(folder, "providers", drop=("NPI", "ENCOUNTERS", "PROCEDURES"), add={"UTILIZATION": "0"})
    _rewrite(folder, "payers", drop=("OWNERSHIP",))
    if version == "3.0.0":
        _rewrite(
            folder,
            "payer_transitions",
            drop=("PLAN_OWNERSHIP", "OWNER_NAME"),
            rename={"START_DATE": "START_YEAR", "END_DATE": "END_YEAR"},
            add={"OWNERSHIP": "Self", "OWNERNAME": "Some Owner"},
            transform=_years,
        )
        return
    # 2.7.0
    _rewrite(
        folder,
        "allergies",
        drop=(
            "SYSTEM",
            "TYPE",
            "CATEGORY",
            "REACTION1",
            "DESCRIPTION1",
            "SEVERITY1",
            "REACTION2",
            "DESCRIPTION2",
            "SEVERITY2",
        ),
    )
    _rewrite(folder, "observations", drop=("CATEGORY",))
    _rewrite(folder, "procedures", drop=("STOP",), rename={"START": "DATE"})
    _rewrite(
        folder,
        "payer_transitions",
        drop=("MEMBERID", "SECONDARY_PAYER", "PLAN_OWNERSHIP", "OWNER_NAME"),
        rename={"START_DATE": "START_YEAR", "END_DATE": "END_YEAR"},
        add={"OWNERSHIP": "Self"},
        transform=_years,
    )
