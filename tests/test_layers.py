"""The layers hold by contract (README "Layout"): the import-linter contracts in
pyproject.toml, run as part of the test command, so a wrong import fails CI."""

import shutil
import subprocess
import sys

from tests.support import ROOT

PACKAGES = ("commerce", "customers", "jobs", "devtools")


def lint_imports(root) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_layer_contract_is_kept():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "0 broken" in result.stdout


def test_a_domain_module_importing_the_admin_breaks_a_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    services = tmp_path / "customers" / "services" / "store.py"
    services.write_text(services.read_text() + "\nfrom jobs import admin_actions  # noqa\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout[-3000:]
    assert "The customer domain does not import the jobs" in result.stdout
    assert "customers.services.store -> jobs.admin_actions" in result.stdout
