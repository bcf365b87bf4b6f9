"""Importing any module of the project does no work: no environment read, no file touched, no process started.

Every module of ``mlhops_dagster``, ``assets``, ``resources``, ``sensors`` and ``jobs`` is imported
in a fresh interpreter with an empty environment and a read-only working directory. An audit
hook records files opened or changed and processes started, and ``os.environ`` is replaced by a
mapping that records each read, so that the import itself — not only a failure — is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mlhops_dagster", "assets", "resources", "sensors", "jobs")

PROBE = r"""
import importlib, json, os, pkgutil, sys, sysconfig
from collections.abc import MutableMapping

ROOT = sys.argv[1]
PROJECT = tuple(os.path.join(ROOT, p) + os.sep for p in %(packages)r)
LIBRARIES = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
STDLIB = sysconfig.get_paths()["stdlib"] + os.sep
findings = []


def project_caller(depth):
    # Where project code asked for this, if it did: the nearest frame outside the standard library (a
    # library importing itself is the library's business; our module calling open() or environ is ours).
    frame = sys._getframe(depth)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith("<") or (name.startswith(STDLIB) and "site-packages" not in name)):
            return f"{os.path.relpath(name, ROOT)}:{frame.f_lineno}" if name.startswith(PROJECT) else None
        frame = frame.f_back
    return None


class RecordingEnviron(MutableMapping):
    def __init__(self, data):
        self._data = data

    def _seen(self, key):
        frame = sys._getframe(2)
        name = frame.f_code.co_filename
        if name.startswith(PROJECT):
            findings.append(f"environment read {key!r} at {os.path.relpath(name, ROOT)}:{frame.f_lineno}")

    def __getitem__(self, key):
        self._seen(key)
        return self._data[key]

    def get(self, key, default=None):
        self._seen(key)
        return self._data.get(key, default)

    def __contains__(self, key):
        self._seen(key)
        return key in self._data

    def __setitem__(self, key, value):
        self._seen(key)
        self._data[key] = value

    def __delitem__(self, key):
        del self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def copy(self):
        return dict(self._data)


def audit(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path, mode = os.fsdecode(args[0]), str(args[1] or "r")
        writes = any(c in mode for c in "wax+")
        library_file = os.path.abspath(path).startswith(LIBRARIES) or path.endswith((".py", ".pyc", ".so"))
        if (writes or not library_file) and (caller := project_caller(1)):
            findings.append(f"open {path!r} mode {mode} during import, from {caller}")
    elif event in ("os.mkdir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.chmod"):
        if caller := project_caller(1):
            findings.append(f"{event} {args[0]!r} during import, from {caller}")
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
        if caller := project_caller(1):
            findings.append(f"{event} {args[0]!r} during import, from {caller}")


os.environ = RecordingEnviron(dict(os.environ))
sys.addaudithook(audit)
sys.path.insert(0, ROOT)
modules = []
for package in %(packages)r:
    importlib.import_module(package)
    modules.append(package)
    path = [os.path.join(ROOT, package)]
    for info in pkgutil.walk_packages(path, prefix=package + "."):
        importlib.import_module(info.name)
        modules.append(info.name)
print(json.dumps({"modules": modules, "findings": findings}))
"""


@pytest.fixture()
def read_only_cwd(tmp_path: Path):
    tmp_path.chmod(0o555)
    yield tmp_path
    tmp_path.chmod(0o755)


def test_every_module_imports_without_side_effects(read_only_cwd: Path) -> None:
    script = PROBE % {"packages": PACKAGES}
    # An empty environment: nothing a module might read is there to find. -B: bytecode caches are not the
    # module's doing.
    result = subprocess.run(
        [sys.executable, "-B", "-c", script, str(ROOT)],
        cwd=read_only_cwd,
        env={},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {
        f"{p.relative_to(ROOT).with_suffix('').as_posix().replace('/', '.')}".removesuffix(".__init__")
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
    }
    assert expected <= set(report["modules"]), sorted(expected - set(report["modules"]))
    assert report["findings"] == []


def test_the_probe_sees_an_environment_read_and_a_file_write(tmp_path: Path) -> None:
    """The probe has teeth: a module that reads a variable and writes a file at import is reported."""
    package = tmp_path / "noisy"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import os\nFLAG = os.environ.get('MLHOPS_ANYTHING')\nopen(os.path.join(os.path.dirname(__file__), 'x'), 'w')\n"
    )
    script = (PROBE % {"packages": ("noisy",)}).replace("ROOT = sys.argv[1]", f"ROOT = {str(tmp_path)!r}")
    result = subprocess.run(
        [sys.executable, "-B", "-c", script], cwd=tmp_path, env={}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    findings = json.loads(result.stdout.strip().splitlines()[-1])["findings"]
    assert any("environment read 'MLHOPS_ANYTHING'" in f for f in findings)
    assert any(f.startswith("open ") and "mode w" in f for f in findings)
    assert os.path.exists(package / "x")
