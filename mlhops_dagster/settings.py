"""One place for paths and profiles.

Every piece of state lives under one data directory (``data/`` in the checkout by default,
``MLHOPS_DATA_DIR`` to move it): the landing folder for extracts, the DuckDB warehouse, the
Dagster instance (``DAGSTER_HOME``) and the MLflow store. Domain code never reads the
environment itself; it is handed values from a :class:`Settings`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from mlhops_dagster.warehouse import CdmSource, PostgresDsn, parse_cdm_source

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_omop"
PSEUDONYM_KEY_ENV = "MLHOPS_PSEUDONYM_KEY"


@dataclass(frozen=True)
class Settings:
    """Resolved locations and knobs for one deployment."""

    data_dir: Path
    pseudonym_key: str | None = None
    model_name: str = "readmission_30d"
    drift_threshold: float = 0.3
    dp_target_epsilon: float = 3.0
    vocab_dir: Path | None = None
    """An OHDSI Athena download (``MLHOPS_VOCAB_DIR``); None uses the shipped demo vocabulary."""
    min_mapping_rate: float = 0.9
    warehouse: str = "duckdb"
    """Where raw, OMOP and result tables live (``MLHOPS_WAREHOUSE=duckdb|postgres``)."""
    postgres: PostgresDsn = field(default_factory=PostgresDsn)
    """The PostgreSQL warehouse (``MLHOPS_PG_*``; the password only ever from ``MLHOPS_PG_PASSWORD``)."""
    cdm_source: CdmSource | None = None
    """An existing OMOP CDM to run on instead of raw ingest + mapping (``MLHOPS_CDM_SOURCE``)."""
    monitoring_start: str = "2020-01-01"
    """First month monitored on a site's own CDM (``MLHOPS_MONITORING_START``); extracts define it otherwise."""
    duckdb_memory_limit: str = "4GB"
    """DuckDB ``memory_limit`` of every warehouse connection the pipeline opens (``MLHOPS_DUCKDB_MEMORY_LIMIT``;
    dbt's profile reads the same variable with the same default); empty = DuckDB's default."""
    dq_thresholds: Path | None = None
    """A JSON/YAML file of data-quality threshold overrides, check name (or glob) -> percent (``MLHOPS_DQ_THRESHOLDS``)."""

    def __post_init__(self) -> None:
        if self.warehouse not in ("duckdb", "postgres"):
            raise ValueError(f"MLHOPS_WAREHOUSE must be duckdb or postgres, not {self.warehouse!r}")

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def mlflow_dir(self) -> Path:
        return self.data_dir / "mlflow"

    @property
    def mlflow_tracking_uri(self) -> str:
        return f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"

    @property
    def mlflow_artifact_root(self) -> str:
        return str(self.mlflow_dir / "artifacts")

    @property
    def local_key_file(self) -> Path:
        return self.data_dir / "secrets" / "pseudonym.key"


def dbt_vars(settings: Settings) -> dict[str, str]:
    """dbt vars the settings imply: which vocabulary the OMOP models read."""
    return {"vocabulary": "athena"} if settings.vocab_dir else {}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (the only place that does)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("MLHOPS_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    return Settings(
        data_dir=data_dir,
        pseudonym_key=env.get(PSEUDONYM_KEY_ENV) or None,
        model_name=env.get("MLHOPS_MODEL_NAME", "readmission_30d"),
        drift_threshold=float(env.get("MLHOPS_DRIFT_THRESHOLD", "0.3")),
        dp_target_epsilon=float(env.get("MLHOPS_DP_EPSILON", "3.0")),
        vocab_dir=Path(env["MLHOPS_VOCAB_DIR"]).resolve() if env.get("MLHOPS_VOCAB_DIR") else None,
        min_mapping_rate=float(env.get("MLHOPS_MIN_MAPPING_RATE", "0.9")),
        warehouse=env.get("MLHOPS_WAREHOUSE", "duckdb").strip().lower() or "duckdb",
        postgres=PostgresDsn.from_env(env),
        cdm_source=parse_cdm_source(env["MLHOPS_CDM_SOURCE"]) if env.get("MLHOPS_CDM_SOURCE") else None,
        monitoring_start=env.get("MLHOPS_MONITORING_START", "2020-01-01"),
        duckdb_memory_limit=env.get("MLHOPS_DUCKDB_MEMORY_LIMIT", "4GB"),
        dq_thresholds=Path(env["MLHOPS_DQ_THRESHOLDS"]).resolve() if env.get("MLHOPS_DQ_THRESHOLDS") else None,
    )


def ensure_local_key_file(path: Path) -> str:
    """Create (once) a random local key for demos, kept under the data dir with mode 0600.

    Production sets ``MLHOPS_PSEUDONYM_KEY`` from a secret store; the demo says when it
    falls back to this file so nobody mistakes it for a managed secret.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
