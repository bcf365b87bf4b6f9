"""A content fingerprint of a feature table, for lineage tags on training and monitoring runs."""

from __future__ import annotations

import hashlib

import pandas as pd


def data_fingerprint(df: pd.DataFrame) -> str:
    """Stable sha256 of a frame's content: column names, dtypes and values, in order.

    The index is ignored; row order and column order matter. Stable across processes and
    machines (pandas' fixed-key value hashing), so it can tag MLflow runs for lineage.
    """
    digest = hashlib.sha256()
    digest.update(b"mlhops-data-fingerprint-v1\x00")
    digest.update(f"{df.shape[0]}x{df.shape[1]}\x00".encode())
    for position in range(df.shape[1]):
        column = df.iloc[:, position]
        digest.update(f"{df.columns[position]!s}\x00{column.dtype!s}\x00".encode())
        values = pd.util.hash_pandas_object(column, index=False).to_numpy()
        digest.update(values.astype("<u8", copy=False).tobytes())
    return digest.hexdigest()
