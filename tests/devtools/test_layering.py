"""jobs.devtools sits on top of the domain apps; no domain module imports it."""

import ast
from pathlib import Path

from django.apps import apps
from django.core.management import get_commands

from tests.support import ROOT

DOMAIN = ("commerce", "customers", "jobs")
DEVTOOLS = ROOT / "jobs" / "devtools"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_domain_module_imports_devtools():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for package in DOMAIN
        for path in sorted((ROOT / package).rglob("*.py"))
        if not path.is_relative_to(DEVTOOLS)
        for name in _imports(path)
        if name == "jobs.devtools" or name.startswith("jobs.devtools.")
    ]
    assert offenders == []


def test_devtools_app_owns_the_development_commands():
    assert apps.get_app_config("devtools").name == "jobs.devtools"
    commands = get_commands()
    for name in ("serve", "setup_demo", "benchmark"):
        assert commands[name] == "jobs.devtools"
