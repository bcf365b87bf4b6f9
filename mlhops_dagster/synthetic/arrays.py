"""Vectorised column builders: strings, UUIDs, codes and random choices for every row at once.

The generator never loops over patients or encounters; these helpers turn numpy arrays into
Arrow columns (without per-value Python objects) or draw one category per row in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def byte_strings(rows: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A string array straight from an (n, width) byte matrix: no per-value Python objects."""
    n, width = rows.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    bitmap, nulls = None, 0
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - np.count_nonzero(valid))
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(rows)), bitmap, nulls
    )


def digits(template: str, fields: Sequence[tuple[int, int, np.ndarray]], valid: np.ndarray | None = None) -> pa.Array:
    """Fill zero-padded integers into a fixed template, e.g. SSNs or timestamps, vectorised."""
    n = len(fields[0][2])
    rows = np.tile(np.frombuffer(template.encode(), dtype=np.uint8), (n, 1))
    for position, width, values in fields:
        values = np.asarray(values, dtype=np.int64)
        for k in range(width):
            rows[:, position + k] = 48 + values // 10 ** (width - 1 - k) % 10
    return byte_strings(rows, valid)


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random (version 4) UUID strings, reproducible from the generator's seed."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    rows = np.full((n, 36), ord("-"), dtype=np.uint8)
    rows[:, _UUID_HEX_POSITIONS] = np.stack([_HEX[raw >> 4], _HEX[raw & 0x0F]], axis=2).reshape(n, 32)
    return byte_strings(rows)


def lookup(values: Sequence[str | None], index: np.ndarray) -> pa.Array:
    """Dictionary-encoded column: small vocabularies stay compact however many rows use them;
    a negative index is a null."""
    index = np.asarray(index, dtype=np.int32)
    indices = pa.array(index, mask=index < 0) if (index < 0).any() else pa.array(index)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string()))


def decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Plain strings of a possibly dictionary-encoded column."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a non-negative weight matrix (rows need a positive weight)."""
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(len(weights)) * cumulative[:, -1]
    return (cumulative <= draw[:, None]).sum(axis=1)


def choice(rng: np.random.Generator, n: int, shares: Sequence[float]) -> np.ndarray:
    """Index of an option per row, drawn with the given shares."""
    return np.searchsorted(np.cumsum(shares) / np.sum(shares), rng.random(n), side="right")


def starts_run(values: np.ndarray) -> np.ndarray:
    """Where a sorted array starts a new run of equal values (e.g. a patient's first visit)."""
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    return starts
