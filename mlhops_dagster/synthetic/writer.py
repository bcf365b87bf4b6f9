"""Writing the extract's CSV files the way Synthea's exporter does (RFC 4180, unquoted)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from mlhops_dagster.synthetic.tables import Tables

logger = logging.getLogger(__name__)

_CSV_STRUCTURAL = (b",", b'"', b"\n", b"\r")


def _needs_quotes(table: pa.Table) -> bool:
    """Whether any text value contains a delimiter, quote or line break."""
    for column in table.columns:
        for chunk in column.chunks:
            if pa.types.is_dictionary(chunk.type):
                chunk = chunk.dictionary
            text_type = pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
            if text_type and chunk.buffers()[2] is not None:
                text = chunk.buffers()[2].to_pybytes()
                if any(char in text for char in _CSV_STRUCTURAL):
                    return True
    return False


def _write_csv(path: Path, table: pa.Table, may_need_quotes: bool) -> None:
    """RFC 4180 CSV with an unquoted header, empty fields for nulls and, like Synthea's own
    exporter, unquoted values; should a value need quoting (e.g. one injected by a defect),
    every text value of that file is quoted, which is equally valid."""
    quoting = "needed" if may_need_quotes and _needs_quotes(table) else "none"
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style=quoting))


def write_tables(out_dir: Path, tables: Tables, generated: Tables) -> None:
    """Write every table to ``<name>.csv`` in ``out_dir``. Generated text is free of delimiters by
    construction (like Synthea's exporter, which strips commas); only a table a defect injector
    replaced (not the one in ``generated``) may need quoting."""

    def write(name: str) -> None:
        table = tables[name]
        _write_csv(out_dir / f"{name}.csv", table, may_need_quotes=table is not generated.get(name))
        logger.info("wrote %s.csv: %d rows", name, table.num_rows)

    # pyarrow formats CSV without the GIL: largest files first, two at a time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(write, sorted(tables, key=lambda name: -tables[name].nbytes)))
