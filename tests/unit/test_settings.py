"""`load_settings`: every variable, its default, and a clear error naming the variable for a bad value; and
the rule that nothing outside ``mlhops_dagster/settings.py`` reads the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from mlhops_dagster.settings import PROJECT_ROOT, Settings, SettingsError, load_settings
from mlhops_dagster.warehouse import PostgresDsn

PACKAGES = ("mlhops_dagster", "assets", "resources", "sensors", "jobs")
LENDS_TO_DBT = ("resources/dbt_project.py", "_profile_environment")
"""The one function allowed to touch ``os.environ``: it lends the settings' profile values to a dbt invocation
(dbt renders its profile from the process environment) and restores the previous values; it reads no setting."""


def test_defaults_with_an_empty_environment() -> None:
    settings = load_settings({})
    assert settings.data_dir == (PROJECT_ROOT / "data").resolve()
    assert settings.warehouse_path == settings.data_dir / "warehouse.duckdb"
    assert settings.dagster_home == settings.data_dir / "dagster_home"
    assert (settings.model_name, settings.drift_threshold, settings.min_mapping_rate) == ("readmission_30d", 0.3, 0.9)
    assert (settings.warehouse, settings.postgres) == ("duckdb", PostgresDsn())
    assert settings.pseudonym_key is None and settings.postgres.password is None
    assert (settings.vocab_dir, settings.cdm_source, settings.dq_thresholds) == (None, None, None)
    assert (settings.monitoring_start, settings.duckdb_memory_limit, settings.dbt_threads) == ("2020-01-01", "4GB", 2)
    assert settings.dbt_vars == {} and settings.secrets_from_env
    assert (settings.dagster_ui_url, settings.mlflow_ui_url) == ("http://127.0.0.1:3000", "http://127.0.0.1:5000")


def test_every_variable_is_read(tmp_path: Path) -> None:
    cdm = tmp_path / "site.duckdb"
    duckdb.connect(str(cdm)).close()
    env = {
        "MLHOPS_DATA_DIR": str(tmp_path / "data"),
        "MLHOPS_PSEUDONYM_KEY": "k" * 32,
        "MLHOPS_MODEL_NAME": "t2d_incident_1y",
        "MLHOPS_DRIFT_THRESHOLD": "0.25",
        "MLHOPS_VOCAB_DIR": str(tmp_path / "athena"),
        "MLHOPS_MIN_MAPPING_RATE": "0.8",
        "MLHOPS_WAREHOUSE": "Postgres",
        "MLHOPS_PG_HOST": "db.hospital.example",
        "MLHOPS_PG_PORT": "6543",
        "MLHOPS_PG_USER": "mlhops",
        "MLHOPS_PG_DB": "warehouse",
        "MLHOPS_PG_PASSWORD": "s3cret",
        "MLHOPS_CDM_SOURCE": f"duckdb://{cdm}?schema=main",
        "MLHOPS_MONITORING_START": "2021-06-01",
        "MLHOPS_DUCKDB_MEMORY_LIMIT": "512MB",
        "MLHOPS_DBT_THREADS": "4",
        "MLHOPS_DQ_THRESHOLDS": str(tmp_path / "thresholds.yaml"),
        "DAGSTER_HOME": str(tmp_path / "home"),
        "MLHOPS_DAGSTER_UI_URL": "https://dagster.hospital.example/",
        "MLHOPS_MLFLOW_UI_URL": "https://ml.hospital.example/mlflow",
    }
    s = load_settings(env)
    assert s.data_dir == tmp_path / "data" and s.dagster_home == tmp_path / "home"
    assert (s.pseudonym_key, s.model_name, s.drift_threshold, s.min_mapping_rate) == (
        "k" * 32,
        "t2d_incident_1y",
        0.25,
        0.8,
    )
    assert s.vocab_dir == tmp_path / "athena" and s.dbt_vars == {"vocabulary": "athena"}
    assert s.warehouse == "postgres"
    assert s.postgres == PostgresDsn("db.hospital.example", 6543, "mlhops", "warehouse")
    assert s.postgres.password == "s3cret"
    assert s.cdm_source is not None and (s.cdm_source.backend, s.cdm_source.schema, s.cdm_source.path) == (
        "duckdb",
        "main",
        cdm,
    )
    assert (s.monitoring_start, s.duckdb_memory_limit, s.dbt_threads) == ("2021-06-01", "512MB", 4)
    assert s.dq_thresholds == tmp_path / "thresholds.yaml"
    assert (s.dagster_ui_url, s.mlflow_ui_url) == (
        "https://dagster.hospital.example",
        "https://ml.hospital.example/mlflow",
    )


def test_a_postgres_cdm_source_gets_the_password_from_its_variable() -> None:
    s = load_settings(
        {"MLHOPS_CDM_SOURCE": "postgresql://reader@cdmhost:5433/cdm?schema=cdm54", "MLHOPS_PG_PASSWORD": "pw"}
    )
    assert s.cdm_source is not None and s.cdm_source.dsn is not None
    assert (s.cdm_source.dsn.host, s.cdm_source.dsn.port, s.cdm_source.dsn.password) == ("cdmhost", 5433, "pw")


def test_secrets_never_show_in_a_repr() -> None:
    s = load_settings({"MLHOPS_PSEUDONYM_KEY": "the-key-itself", "MLHOPS_PG_PASSWORD": "the-password"})
    assert "the-key-itself" not in repr(s) and "the-password" not in repr(s)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MLHOPS_DRIFT_THRESHOLD", "high"),
        ("MLHOPS_DRIFT_THRESHOLD", "1.5"),
        ("MLHOPS_MIN_MAPPING_RATE", "-0.1"),
        ("MLHOPS_MIN_MAPPING_RATE", "90%"),
        ("MLHOPS_WAREHOUSE", "sqlite"),
        ("MLHOPS_PG_PORT", "five"),
        ("MLHOPS_PG_PORT", "70000"),
        ("MLHOPS_DBT_THREADS", "0"),
        ("MLHOPS_DBT_THREADS", "two"),
        ("MLHOPS_DUCKDB_MEMORY_LIMIT", "lots"),
        ("MLHOPS_MONITORING_START", "June 2021"),
        ("MLHOPS_MODEL_NAME", "my model/v2"),
        ("MLHOPS_CDM_SOURCE", "oracle://cdm"),
        ("MLHOPS_CDM_SOURCE", "/no/such/cdm.duckdb"),
        ("MLHOPS_CDM_SOURCE", "postgresql://u:password@host/db"),
        ("MLHOPS_DAGSTER_UI_URL", "dagster.local:3000"),
        ("MLHOPS_MLFLOW_UI_URL", "ftp://mlflow"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(
        SettingsError, match=variable if variable != "MLHOPS_CDM_SOURCE" else "MLHOPS_CDM_SOURCE|PASSWORD"
    ):
        load_settings({variable: value})


def test_a_settings_object_checks_its_warehouse(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="MLHOPS_WAREHOUSE"):
        Settings(data_dir=tmp_path, warehouse="oracle")


def _environment_reads(path: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """``os.environ`` / ``os.getenv`` / ``os.putenv`` / ``from os import environ`` uses, as ``file:line (function)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            hit = (
                isinstance(child, ast.Attribute)
                and isinstance(child.value, ast.Name)
                and child.value.id == "os"
                and child.attr in ("environ", "environb", "getenv", "getenvb", "putenv", "unsetenv")
            ) or (
                isinstance(child, ast.ImportFrom)
                and child.module == "os"
                and any(a.name in ("environ", "getenv", "putenv") for a in child.names)
            )
            relative = path.relative_to(root).as_posix()
            if hit and (relative, function) != LENDS_TO_DBT:
                found.append(f"{relative}:{child.lineno} ({function or 'module'})")
            visit(child, name)

    visit(tree, "")
    return found


def test_only_settings_reads_the_environment() -> None:
    files = [p for package in PACKAGES for p in (PROJECT_ROOT / package).rglob("*.py")]
    reads = [
        hit
        for p in files
        if p.name != "settings.py" or p.parent.name != "mlhops_dagster"
        for hit in _environment_reads(p)
    ]
    assert reads == []


def test_the_environment_rule_has_teeth(tmp_path: Path) -> None:
    module = tmp_path / "mlhops_dagster" / "knobs.py"
    module.parent.mkdir()
    module.write_text("import os\nfrom os import getenv\n\n\ndef knob():\n    return os.environ.get('MLHOPS_X')\n")
    assert _environment_reads(module, tmp_path) == [
        "mlhops_dagster/knobs.py:2 (module)",
        "mlhops_dagster/knobs.py:6 (knob)",
    ]
