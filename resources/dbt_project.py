"""The OMOP dbt project, built from the settings, and the dbt CLI resource that runs it.

Nothing happens at import. :func:`omop_dbt_project` builds the ``DbtProject`` for the settings'
dbt vars (cached: one object per vocabulary mode, each with its own target folder so a demo
manifest and an Athena manifest never overwrite each other); :func:`dbt_profile_env` is the one
place that says what ``dbt_omop/profiles.yml`` reads; :func:`prepare_manifest` parses the
project (``make manifest``, the test suite, and the definitions when a manifest is missing or
``dagster dev`` runs).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

from mlhops_dagster.settings import DBT_PROJECT_DIR, Settings

_ENV_LOCK = threading.Lock()


def dbt_profile_env(settings: Settings) -> dict[str, str]:
    """The values ``dbt_omop/profiles.yml`` reads, from the settings (the PostgreSQL password excepted: dbt
    reads ``MLHOPS_PG_PASSWORD`` from the environment itself, so it is never copied anywhere)."""
    env = {
        "MLHOPS_WAREHOUSE_PATH": str(settings.warehouse_path),
        "MLHOPS_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "MLHOPS_DBT_THREADS": str(settings.dbt_threads),
    }
    pg = settings.postgres
    return env | {
        "MLHOPS_PG_HOST": pg.host,
        "MLHOPS_PG_PORT": str(pg.port),
        "MLHOPS_PG_USER": pg.user,
        "MLHOPS_PG_DB": pg.dbname,
    }


def dbt_var_args(settings: Settings) -> list[str]:
    """``--vars`` for every dbt invocation (parse and build alike, so the manifest matches the runs)."""
    return ["--vars", json.dumps(settings.dbt_vars, sort_keys=True)] if settings.dbt_vars else []


def omop_dbt_project(settings: Settings) -> DbtProject:
    """The dbt project for the settings' vocabulary mode (one cached object per mode)."""
    return _project(json.dumps(settings.dbt_vars, sort_keys=True))


@functools.cache
def _project(vars_json: str) -> DbtProject:
    dbt_vars: dict[str, str] = json.loads(vars_json)
    vocabulary = dbt_vars.get("vocabulary")
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=Path("target", vocabulary) if vocabulary else Path("target"),
    )


@contextmanager
def _profile_environment(values: Mapping[str, str]) -> Iterator[None]:
    """dbt renders its profile from the process environment: lend it ``values`` for one invocation."""
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class OmopDbtResource(DbtCliResource):
    """dagster-dbt's CLI resource, given the profile values of these settings for each invocation.

    dagster-dbt copies the process environment into the dbt subprocess (and renders the profile
    in-process for its adapter); ``profile_env`` holds what the settings say instead, so a
    deployment built from a ``Settings`` object (a test's temp folder, say) runs dbt on that
    warehouse without anyone exporting variables first.
    """

    profile_env: dict[str, str] = {}
    manifest_path: str = ""
    """The project's parsed manifest (lineage hashes read it)."""

    def cli(self, args: Sequence[str], **kwargs: Any):
        with _profile_environment(self.profile_env):
            return super().cli(args, **kwargs)


def dbt_executable() -> str:
    """The dbt installed beside this interpreter (the venv's), even when the venv is not on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_resource(settings: Settings, executable: str | None = None) -> OmopDbtResource:
    """The dbt resource of a deployment: its project, target (duckdb|postgres) and profile values."""
    project = omop_dbt_project(settings)
    return OmopDbtResource(
        project_dir=project,  # type: ignore[arg-type]  # DbtCliResource.__init__ takes the DbtProject (state, profile)
        manifest_path=str(project.manifest_path),
        dbt_executable=executable or dbt_executable(),
        target=settings.warehouse,
        profile_env=dbt_profile_env(settings),
    )


def prepare_manifest(settings: Settings, executable: str | None = None) -> Path:
    """Parse the dbt project so its ``manifest.json`` exists (partial parsing keeps re-runs fast)."""
    project = omop_dbt_project(settings)
    resource = dbt_resource(settings, executable)
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    # One parse at a time per target folder (parallel test workers, a webserver and a daemon starting together).
    with FileLock(str(project.manifest_path.with_suffix(".lock")), timeout=600):
        resource.cli(["parse", "--quiet", *dbt_var_args(settings)], target_path=project.target_path).wait()
    return project.manifest_path


def ensure_manifest(settings: Settings, executable: str | None = None) -> Path:
    """The manifest, parsed first when it is missing or when ``dagster dev`` runs (so edits show up)."""
    project = omop_dbt_project(settings)
    if not project.manifest_path.exists() or project.preparer.using_dagster_dev():
        prepare_manifest(settings, executable)
    return project.manifest_path
