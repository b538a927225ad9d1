"""Helpers for tests that run the product in real processes against real databases."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from devtools.benchmark.freshness import process_group_stop

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip loudly without the service; in CI (CI=true) its absence is a failure."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message}, and CI must run this test")
    pytest.skip(f"SKIPPED LOUDLY: {message}; this test did not run")


def base_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update({"DJANGO_SETTINGS_MODULE": "commerce.settings", "LOG_LEVEL": "WARNING"})
    env.update(overrides)
    return env


def manage(env: dict, *args: str, timeout: float = 300, check: bool = True):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
        )
    return result


def python(env: dict, code: str, timeout: float = 300) -> subprocess.Popen:
    """Start a Python process with Django set up for ``env``; returns the Popen."""
    prelude = "import django; django.setup()\n"
    return subprocess.Popen(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen, timeout: float = 300) -> str:
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise AssertionError(f"process exited {process.returncode}\n{out[-3000:]}\n{err[-6000:]}")
    return out


def python_json(env: dict, code: str, timeout: float = 120):
    """Run ``code`` in a Django process for ``env``; its last output line, as JSON."""
    return json.loads(finished(python(env, code), timeout=timeout).strip().splitlines()[-1])


def wait_for(condition, *, timeout: float, poll: float = 0.1) -> bool:
    """Call ``condition`` until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


class PostgresDatabases:
    """Fresh PostgreSQL databases for HQ and two channels, dropped afterwards; copies of
    ``templates`` (three database names) when given."""

    def __init__(self, prefix: str = "t", templates: list[str] | None = None):
        import psycopg

        self.psycopg = psycopg
        self.prefix = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.names = [f"{self.prefix}_hq", f"{self.prefix}_ch1", f"{self.prefix}_ch2"]
        self.templates = templates or [None] * len(self.names)

    def _admin(self):
        return self.psycopg.connect(
            host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True
        )

    def create(self) -> dict[str, str]:
        with self._admin() as connection:
            for name, template in zip(self.names, self.templates, strict=True):
                copy = f' TEMPLATE "{template}"' if template else ""
                connection.execute(f'CREATE DATABASE "{name}"{copy}')
        url = f"postgres://postgres@{PG_HOST}:{PG_PORT}/"
        return {
            "DATABASE_URL": url + self.names[0],
            "CHANNEL_DATABASE_URLS": f"channel={url}{self.names[1]},channel2={url}{self.names[2]}",
        }

    def drop(self) -> None:
        with self._admin() as connection:
            for name in self.names:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Migrated once per test process (``setup_databases``: ~9 s on PostgreSQL), then copied
# for each test with ``CREATE DATABASE … TEMPLATE`` (a fraction of a second); dropped
# when the session ends (``pytest_sessionfinish``).
_migrated_templates: list[PostgresDatabases] = []


def _migrated_template(tmp_path) -> PostgresDatabases:
    if not _migrated_templates:
        template = PostgresDatabases("tmpl")
        try:
            manage(base_env(VAR_DIR=str(tmp_path), **template.create()), "setup_databases")
        except BaseException:
            template.drop()  # never kept half-migrated, for the next test to copy
            raise
        _migrated_templates.append(template)
    return _migrated_templates[0]


# The same for the embedded default's SQLite files (``sqlite_files_env_in``).
SQLITE_FILES = ("hq.sqlite3", "channel.sqlite3", "channel2.sqlite3")
_sqlite_template: list[Path] = []


def pytest_sessionfinish(session):
    while _migrated_templates:
        _migrated_templates.pop().drop()
    while _sqlite_template:
        shutil.rmtree(_sqlite_template.pop(), ignore_errors=True)


@contextlib.contextmanager
def migrated_postgres_env(tmp_path, prefix: str = "t"):
    """Subprocess environment on fresh, migrated PostgreSQL databases named ``prefix``_*
    (copies of a migrated template); they are dropped on exit."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    databases = PostgresDatabases(prefix, templates=_migrated_template(tmp_path).names)
    env = base_env(VAR_DIR=str(tmp_path), **databases.create())
    try:
        yield env
    finally:
        databases.drop()


@pytest.fixture
def postgres_env(tmp_path):
    """Environment for subprocesses using fresh PostgreSQL databases (migrated)."""
    with migrated_postgres_env(tmp_path) as env:
        yield env


@pytest.fixture
def jobs_env(postgres_env):
    """For tests that run the jobs themselves, with no cluster: no store-write triggers."""
    return {**postgres_env, "CONVERSION_TRIGGERS": "0"}


JOB_WORKER = """
import json, time
{prelude}

class Counter:
    selected = succeeded = failed = 0
    def add(self, selected=0, succeeded=0, failed=0, skipped=0, held=0, errors=()):
        self.selected += selected; self.succeeded += succeeded; self.failed += failed

while time.time() < {start_at}:
    time.sleep(0.01)
counter = Counter()
{run}
print(json.dumps([counter.selected, counter.succeeded, counter.failed]))
"""


def json_outputs_at_once(env: dict, template: str, fields: list[dict], *, delay: float = 3):
    """Start one Django process per entry of ``fields``, running ``template`` formatted with
    it and ``start_at``, one moment ``delay`` seconds ahead that the code waits for, so that
    they run at once; returns each one's last output line, as JSON."""
    start_at = time.time() + delay
    processes = [python(env, template.format(start_at=start_at, **each)) for each in fields]
    return [json.loads(finished(p).strip().splitlines()[-1]) for p in processes]


def job_workers_at_once(env: dict, runs: list[str], *, prelude: str = "", delay: float = 3):
    """Run each of ``runs`` (code that runs a job with ``progress=counter``) in its own
    process after ``prelude``, all at once; returns each one's [selected, succeeded, failed]."""
    fields = [{"prelude": prelude, "run": run} for run in runs]
    return json_outputs_at_once(env, JOB_WORKER, fields, delay=delay)


def account_creation_at_once(env: dict, *, workers: int, batch_size: int, prelude: str = ""):
    """``workers`` processes running account creation at once (job_workers_at_once)."""
    return job_workers_at_once(
        env,
        [f"account_creation_run(progress=counter, batch_size={batch_size})"] * workers,
        prelude="from jobs.account_creation import account_creation_run\n" + prelude,
    )


def embedded_env(var_dir: Path) -> dict[str, str]:
    """Subprocess environment of the embedded default: SQLite files in ``var_dir`` and
    the ORM broker, whatever database or broker this test process was given."""
    env = base_env(VAR_DIR=str(var_dir))
    for name in ("DATABASE_URL", "CHANNEL_DATABASE_URLS", "REDIS_URL"):
        env.pop(name, None)
    return env


def sqlite_files_env_in(var_dir: Path) -> dict[str, str]:
    """Subprocess environment: the embedded default's SQLite files in ``var_dir``,
    migrated (copies of files ``setup_databases`` migrated once per test process)."""
    env = embedded_env(var_dir)
    if not _sqlite_template:
        template = Path(tempfile.mkdtemp(prefix="sqlite-template-"))
        try:
            manage({**env, "VAR_DIR": str(template)}, "setup_databases")
        except BaseException:
            shutil.rmtree(template, ignore_errors=True)
            raise
        _sqlite_template.append(template)
    for name in SQLITE_FILES:  # closed by their process: the WAL is checkpointed
        shutil.copyfile(_sqlite_template[0] / name, var_dir / name)
    return env


@pytest.fixture
def sqlite_files_env(tmp_path):
    """Subprocess environment: SQLite files in a temporary var/ (the embedded default)."""
    return sqlite_files_env_in(tmp_path)


def qcluster_start(env: dict, *, prelude: str = "", log: Path | None = None) -> subprocess.Popen:
    """Start a qcluster in its own process group, so that a test can SIGKILL it whole.

    ``prelude`` runs after ``django.setup()`` and before the cluster forks its workers,
    which inherit what it patched: the seam for a test that makes a job slow or stops it
    at a point of its choosing (``jobs.upload.fault_hook``), kept out of settings and
    production code. The cluster's log goes to ``log`` when given.
    """
    code = f"{prelude}\nfrom django.core.management import call_command\ncall_command('qcluster')\n"
    output = open(log, "ab") if log else subprocess.DEVNULL  # the child keeps its own copy
    try:
        return subprocess.Popen(
            [sys.executable, "-c", "import django; django.setup()\n" + code],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    finally:
        if log:
            output.close()


@contextlib.contextmanager
def qcluster_running(env: dict, *, prelude: str = "", log: Path | None = None):
    """A qcluster (qcluster_start) for the duration of the ``with`` block, stopped as an
    operator stops it afterwards (qcluster_stop)."""
    cluster = qcluster_start(env, prelude=prelude, log=log)
    try:
        yield cluster
    finally:
        qcluster_stop(cluster)


# Two stores, each with its channel database; for tests whose customers come later.
TWO_STORES_SEED = """
from devtools.generate import organization_generate
organization_generate(stores=2)  # L001 at LOAD1 (alias channel), L002 at LOAD2 (channel2)
"""

# The outcome of a conversion at scale: statuses, duplicates, copies at the stores, runs.
CONVERSION_CHECK = """
import json
from collections import Counter
from django.db.models import Count
from customers.models import ChannelCustomer, Customer, StagedAsyncCustomer
from customers.selectors import async_status_rows
from jobs.models import JobRun
rows = list(async_status_rows())
print(json.dumps({
    "statuses": Counter(r["status"] for r in rows),
    "rows": len(rows),
    "customers": Customer.objects.exclude(async_customer_id=None).count(),
    "duplicate_guids": Customer.objects.exclude(async_customer_id=None)
        .values("async_customer_id").annotate(n=Count("id")).filter(n__gt=1).count(),
    "duplicate_accounts": Customer.objects.values("legal_entity", "account")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
    "staged": StagedAsyncCustomer.objects.count(),
    "copies": {a: ChannelCustomer.objects.using(a).count() for a in ("channel", "channel2")},
    "runs": Counter(JobRun.objects.values_list("status", flat=True)),
    "workers": sorted(set(JobRun.objects.exclude(worker="").values_list("worker", flat=True))),
}))
"""


def process_group_kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group a ``start_new_session`` child leads."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def qcluster_stop(process: subprocess.Popen) -> None:
    """Stop a cluster as an operator does (SIGTERM: it stops its own workers), then kill
    whatever of its process group is left (``process_group_stop``)."""
    process_group_stop(process, timeout=30)


# serve (jobs/management/commands/serve.py, extended in development by devtools): its
# children recorded instead of started, in the tests of both.

PRODUCTION_KEY = "q3Vb8Zt0-kR9wYpL2_mX7sNcF4hJ6gD1aE5uT8iO0pW3zQ9vB2nM7xC4lK6jH1gS5d"


class FakeProcess:
    """What serve starts, recorded instead of run; it stays up until serve stops it."""

    started: list[list[str]] = []

    def __init__(self, args, **kwargs):
        self.args = args
        self.signals = []
        FakeProcess.started.append(args)

    def poll(self):
        return None if not self.signals else 0

    def send_signal(self, signum):
        self.signals.append(signum)

    def wait(self, timeout=None):
        return 0


@pytest.fixture
def fake_children(monkeypatch):
    """serve's children are recorded, and its first wait is interrupted as by Ctrl-C."""
    from jobs.management.commands import serve

    FakeProcess.started = []
    monkeypatch.setattr(serve.subprocess, "Popen", FakeProcess)

    def interrupted(seconds):
        raise serve._Stop("SIGINT")

    monkeypatch.setattr(serve.time, "sleep", interrupted)
    return FakeProcess.started


def run_serve(*args) -> str:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("serve", "--addrport", "127.0.0.1:8123", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def production(tmp_path):
    from django.test import override_settings

    return override_settings(
        PRODUCTION=True,
        ENVIRONMENT="production",
        DEBUG=False,
        ALLOWED_HOSTS=["hq.example.com"],
        STATIC_ROOT=tmp_path / "static",
    )
