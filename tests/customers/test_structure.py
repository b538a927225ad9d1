"""The customer domain does not depend on the jobs that move it: one module of
``customers`` imports ``jobs``, the admin's door to it."""

import ast
from pathlib import Path

import customers

CUSTOMERS = Path(customers.__file__).resolve().parent
ALLOWED = {Path("admin/job_actions.py")}
# Being moved out of customers (a development tool); skipped only while it is still here.
LEAVING = Path("management/commands/serve.py")


def jobs_imports(source: str) -> list[int]:
    """Line numbers of the imports of ``jobs`` (or a module under it) in ``source``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "jobs" or name.startswith("jobs.") for name in names):
            lines.append(node.lineno)
    return lines


def test_jobs_imports_are_found_in_every_form():
    source = (
        "import jobs\nimport jobs.models as m\nfrom jobs.services import x\nfrom jobs import y\n"
    )

    assert jobs_imports(source) == [1, 2, 3, 4]
    assert jobs_imports("import jobsite\nfrom customers.jobs import z\nfrom . import jobs\n") == []


def test_only_the_admin_job_actions_import_jobs():
    modules = sorted(CUSTOMERS.rglob("*.py"))
    assert CUSTOMERS / "admin" / "job_actions.py" in modules
    offenders = {
        f"{relative}:{line}"
        for path in modules
        if (relative := path.relative_to(CUSTOMERS)) not in ALLOWED and relative != LEAVING
        for line in jobs_imports(path.read_text(encoding="utf-8"))
    }

    assert offenders == set()
