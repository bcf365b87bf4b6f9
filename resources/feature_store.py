"""Parquet snapshots of feature tables, so training reads features without holding the DuckDB lock."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd


class FeatureStoreResource(dg.ConfigurableResource):
    root: str

    def path(self, name: str) -> Path:
        return Path(self.root) / f"{name}.parquet"

    def write(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path

    def read(self, name: str) -> pd.DataFrame:
        path = self.path(name)
        if not path.exists():
            raise FileNotFoundError(f"feature table {name} has not been materialised yet ({path})")
        return pd.read_parquet(path)
