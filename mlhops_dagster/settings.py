"""One place for paths, profiles and knobs: the only module that reads the environment.

Every piece of state lives under one data directory (``data/`` in the checkout by default,
``MLHOPS_DATA_DIR`` to move it): the landing folder for extracts, the DuckDB warehouse, the
Dagster instance (``DAGSTER_HOME``) and the MLflow store. :func:`load_settings` reads every
``MLHOPS_*`` variable once and validates it, naming the variable in any error; everything
else (domain code, resources, dbt's profile) is handed values from a :class:`Settings`.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlhops_dagster.warehouse import CdmSource, PostgresDsn, parse_cdm_source

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_omop"
PSEUDONYM_KEY_ENV = "MLHOPS_PSEUDONYM_KEY"
PG_PASSWORD_ENV = "MLHOPS_PG_PASSWORD"
"""The PostgreSQL password's variable: read here, and handed to Dagster as an ``EnvVar`` so it never shows as config."""
WAREHOUSES = ("duckdb", "postgres")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class SettingsError(ValueError):
    """A variable holds a value the pipeline cannot use; the message names the variable and the value."""


@dataclass(frozen=True)
class Settings:
    """Resolved locations and knobs for one deployment."""

    data_dir: Path
    pseudonym_key: str | None = field(default=None, repr=False)
    model_name: str = "readmission_30d"
    drift_threshold: float = 0.3
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
    """DuckDB ``memory_limit`` of every warehouse connection the pipeline and dbt open
    (``MLHOPS_DUCKDB_MEMORY_LIMIT``); empty = DuckDB's default."""
    dbt_threads: int = 2
    """dbt threads on DuckDB (``MLHOPS_DBT_THREADS``): models built at once."""
    dq_thresholds: Path | None = None
    """A JSON/YAML file of data-quality threshold overrides, check name (or glob) -> percent (``MLHOPS_DQ_THRESHOLDS``)."""
    secrets_from_env: bool = False
    """True when :func:`load_settings` read the secrets from the environment: resources then get references to
    their variables (resolved by Dagster at run time, never shown as config) instead of the values."""
    dagster_home_dir: Path | None = None
    """The Dagster instance folder when ``DAGSTER_HOME`` names one; None: ``<data_dir>/dagster_home``."""
    dagster_ui_url: str = "http://127.0.0.1:3000"
    """Where people open the Dagster UI (``MLHOPS_DAGSTER_UI_URL``): MLflow runs link back to their Dagster run."""
    mlflow_ui_url: str = "http://127.0.0.1:5000"
    """Where people open the MLflow UI (``MLHOPS_MLFLOW_UI_URL``): Dagster metadata links to the MLflow runs."""

    def __post_init__(self) -> None:
        if self.warehouse not in WAREHOUSES:
            raise SettingsError(f"MLHOPS_WAREHOUSE must be duckdb or postgres, not {self.warehouse!r}")

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.dagster_home_dir or self.data_dir / "dagster_home"

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

    @property
    def dbt_vars(self) -> dict[str, str]:
        """dbt vars the settings imply: which vocabulary the OMOP models read."""
        return {"vocabulary": "athena"} if self.vocab_dir else {}


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise SettingsError(f"{name} must be a number between {low} and {high}, not {raw!r}") from err
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {raw!r}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def _memory(env: Mapping[str, str]) -> str:
    raw = env.get("MLHOPS_DUCKDB_MEMORY_LIMIT", "4GB").strip()
    if raw and not _MEMORY.match(raw):
        raise SettingsError(f"MLHOPS_DUCKDB_MEMORY_LIMIT must be a size such as 4GB or 512MB, not {raw!r}")
    return raw


def _month(env: Mapping[str, str]) -> str:
    raw = env.get("MLHOPS_MONITORING_START", "2020-01-01").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise SettingsError(f"MLHOPS_MONITORING_START must be a date YYYY-MM-DD, not {raw!r}")
    return raw


def _ui_url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip().rstrip("/") or default
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", raw):
        raise SettingsError(f"{name} must be an http(s) address such as {default}, not {raw!r}")
    return raw


def _model_name(env: Mapping[str, str]) -> str:
    raw = env.get("MLHOPS_MODEL_NAME", "").strip() or "readmission_30d"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", raw):
        raise SettingsError(f"MLHOPS_MODEL_NAME must be letters, digits, '_', '-' or '.', not {raw!r}")
    return raw


def _postgres(env: Mapping[str, str], password: str | None) -> PostgresDsn:
    return PostgresDsn(
        host=env.get("MLHOPS_PG_HOST", "").strip() or "127.0.0.1",
        port=_integer(env, "MLHOPS_PG_PORT", 5432, 1, 65535),
        user=env.get("MLHOPS_PG_USER", "").strip() or "postgres",
        dbname=env.get("MLHOPS_PG_DB", "").strip() or "test",
        password=password,
    )


def _cdm_source(env: Mapping[str, str], password: str | None) -> CdmSource | None:
    raw = env.get("MLHOPS_CDM_SOURCE", "").strip()
    if not raw:
        return None
    try:
        source = parse_cdm_source(raw)
    except ValueError as err:  # the parser's message already names MLHOPS_CDM_SOURCE
        raise SettingsError(str(err)) from err
    return replace(source, dsn=replace(source.dsn, password=password)) if source.dsn is not None else source


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting from the environment (the only place that does)."""
    env = os.environ if environ is None else environ
    password = env.get(PG_PASSWORD_ENV) or None
    warehouse = env.get("MLHOPS_WAREHOUSE", "").strip().lower() or "duckdb"
    if warehouse not in WAREHOUSES:
        raise SettingsError(f"MLHOPS_WAREHOUSE must be duckdb or postgres, not {env['MLHOPS_WAREHOUSE']!r}")
    return Settings(
        data_dir=_path(env, "MLHOPS_DATA_DIR") or (PROJECT_ROOT / "data").resolve(),
        pseudonym_key=env.get(PSEUDONYM_KEY_ENV) or None,
        model_name=_model_name(env),
        drift_threshold=_number(env, "MLHOPS_DRIFT_THRESHOLD", 0.3, 0.0, 1.0),
        vocab_dir=_path(env, "MLHOPS_VOCAB_DIR"),
        min_mapping_rate=_number(env, "MLHOPS_MIN_MAPPING_RATE", 0.9, 0.0, 1.0),
        warehouse=warehouse,
        postgres=_postgres(env, password),
        cdm_source=_cdm_source(env, password),
        monitoring_start=_month(env),
        duckdb_memory_limit=_memory(env),
        dbt_threads=_integer(env, "MLHOPS_DBT_THREADS", 2, 1, 64),
        dq_thresholds=_path(env, "MLHOPS_DQ_THRESHOLDS"),
        dagster_home_dir=_path(env, "DAGSTER_HOME"),
        dagster_ui_url=_ui_url(env, "MLHOPS_DAGSTER_UI_URL", "http://127.0.0.1:3000"),
        mlflow_ui_url=_ui_url(env, "MLHOPS_MLFLOW_UI_URL", "http://127.0.0.1:5000"),
        secrets_from_env=True,
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
