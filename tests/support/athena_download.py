"""A tiny OHDSI Athena download for tests, written from the project's demo vocabulary plus one extra code.

Shaped like the real thing (tab-delimited, upper-case file names, YYYYMMDD dates, an upper-case
DOMAIN header) and holding one mapping the demo seeds lack: the generator's "unmapped" SNOMED
code (pneumonia) maps to itself, so a CDM built from this directory gives it a concept where a
demo build leaves 0.
"""

from __future__ import annotations

import csv
from pathlib import Path

from mlhops_dagster.settings import DBT_PROJECT_DIR
from mlhops_dagster.synthetic import UNMAPPED_CONDITION

SEEDS = DBT_PROJECT_DIR / "seeds"
PNEUMONIA_CONCEPT = 255848  # only the Athena directory knows the generator's "unmapped" SNOMED code


def write_athena_directory(folder: Path) -> Path:
    """Write CONCEPT, CONCEPT_RELATIONSHIP, VOCABULARY and DOMAIN (no CONCEPT_ANCESTOR) into ``folder``."""
    folder.mkdir(parents=True)
    for seed in ("concept", "concept_relationship", "vocabulary", "domain"):
        with (SEEDS / f"{seed}.csv").open(newline="") as handle:
            rows = list(csv.reader(handle))
        header = rows[0]
        if seed == "concept":
            rows.append(
                [
                    str(PNEUMONIA_CONCEPT),
                    "Pneumonia",
                    "Condition",
                    "SNOMED",
                    "Clinical Finding",
                    "S",
                    UNMAPPED_CONDITION[0],
                    "1970-01-01",
                    "2099-12-31",
                    "",
                ]
            )
        if seed == "concept_relationship":
            rows.append([str(PNEUMONIA_CONCEPT), str(PNEUMONIA_CONCEPT), "Maps to", "1970-01-01", "2099-12-31", ""])
        dates = [i for i, name in enumerate(header) if name.endswith("_date")]
        lines = ["\t".join(h.upper() if seed == "domain" else h for h in header)]
        for row in rows[1:]:
            lines.append("\t".join(v.replace("-", "") if i in dates else v for i, v in enumerate(row)))
        (folder / f"{seed.upper()}.csv").write_text("\n".join(lines) + "\n")
    return folder
