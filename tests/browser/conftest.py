"""The product running for real (SQLite files, a qcluster, runserver) and Chromium
driving it. Everything here is module-scoped: a module's tests share one server and
one browser and run in file order."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.benchmark.freshness import process_group_stop
from tests.support import ROOT, finished, manage, python, sqlite_files_env_in

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
STARTUP_SECONDS = 30
# The operator's screen (README "Admin"): key columns must fit in it.
VIEWPORT = {"width": 1440, "height": 900}

VIEWER_USERNAME, VIEWER_PASSWORD = "viewer", "viewer-pass-123"
CREATE_VIEWER = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
viewer = get_user_model().objects.create_user(
    {VIEWER_USERNAME!r}, password={VIEWER_PASSWORD!r}, is_staff=True
)
viewer.user_permissions.set(
    Permission.objects.filter(
        codename__startswith="view_",
        content_type__app_label__in=["customers", "commerce", "jobs"],
    )
)
assert not viewer.has_perm("jobs.run_upload")
"""


def require_chromium() -> None:
    """Skip loudly without Debian's Chromium; in CI (CI=true) its absence is a failure."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message}, and CI must run the browser tests")
    pytest.skip(f"SKIPPED LOUDLY: {message}; the browser tests did not run")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(env: dict, log: Path, *args: str) -> subprocess.Popen:
    with log.open("w") as output:  # a file, not a pipe: runserver logs every request
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@dataclass
class Server:
    url: str
    env: dict


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    """The demo organization in SQLite files under a temporary VAR_DIR, served by
    ``runserver`` with a real ``qcluster`` executing the jobs."""
    require_chromium()  # before the setup: no server for tests that cannot run
    var_dir = tmp_path_factory.mktemp("browser-var")
    env = {**sqlite_files_env_in(var_dir), "Q_WORKERS": "2"}
    manage(env, "setup_demo")
    finished(python(env, CREATE_VIEWER))

    port = _free_port()
    cluster_log, server_log = var_dir / "qcluster.log", var_dir / "runserver.log"
    cluster = _start(env, cluster_log, "qcluster")
    server = _start(env, server_log, "runserver", f"127.0.0.1:{port}", "--noreload")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            for process, log in ((cluster, cluster_log), (server, server_log)):
                if process.poll() is not None:
                    raise AssertionError(f"{process.args} exited early:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/admin/login/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"runserver did not answer:\n{_tail(server_log)}")
            time.sleep(0.2)
        yield Server(url=url, env=env)
    finally:
        process_group_stop(cluster, timeout=30)
        process_group_stop(server, timeout=10)


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(chromium, admin_server):
    """``new_page()`` opens a page in a fresh browser context (its own cookies). Any
    Content-Security-Policy violation a page reports fails the test."""
    contexts, violations = [], []

    def record(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{message.location.get('url')}: {message.text}")

    def open_page():
        context = chromium.new_context(base_url=admin_server.url, viewport=VIEWPORT)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", record)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert violations == [], "the Content-Security-Policy blocked part of a page"


@pytest.fixture(scope="module")
def screenshot():
    """``screenshot(page, name)`` saves a full-page PNG under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
