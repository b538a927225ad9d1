"""serve, the product's launcher (jobs/management/commands/serve.py): with
ENVIRONMENT=production no demo, no user with a known password, and gunicorn; the
development tools are not installed there."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.test import override_settings

from commerce.models import LegalEntity
from devtools.demo.loading import admin_user_ensure
from jobs.management.commands import serve
from tests.support import (
    PRODUCTION_KEY,
    ROOT,
    base_env,
    finished,
    manage,
    production,
    python,
    run_serve,
)

pytestmark = pytest.mark.django_db(databases="__all__")


def test_serve_in_production_has_no_demo_no_known_password_and_runs_gunicorn(
    fake_children, tmp_path
):
    with production(tmp_path):
        output = run_serve()

    assert not get_user_model().objects.exists()
    assert not LegalEntity.objects.exists()
    assert "admin / admin" not in output
    assert "the demo organization and the admin/admin user are not loaded" in output
    assert "Admin: https://hq.example.com/admin/" in output
    assert "no superuser yet: create one with manage.py createsuperuser" in output
    qcluster, web = fake_children
    assert qcluster[-1] == "qcluster"
    assert web[:4] == [sys.executable, "-m", "gunicorn", "commerce.wsgi:application"]
    assert web[web.index("--bind") + 1] == "127.0.0.1:8123"
    assert web[web.index("--config") + 1] == "python:commerce.gunicorn_conf"
    assert not any("runserver" in arg for arg in web)
    assert (tmp_path / "static" / "admin" / "css" / "base.css").exists()  # for WhiteNoise


def test_serve_in_production_ignores_an_existing_admin_and_loads_no_demo(fake_children, tmp_path):
    get_user_model().objects.create_superuser(username="ops", password="a long passphrase 1")

    with production(tmp_path):
        output = run_serve()

    assert list(get_user_model().objects.values_list("username", flat=True)) == ["ops"]
    assert "createsuperuser" not in output and not LegalEntity.objects.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers):
    request = urllib.request.Request(url, headers={"Host": "hq.example.com", **headers})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        return urllib.request.build_opener(NoRedirect).open(request, timeout=5)
    except urllib.error.HTTPError as error:
        return error


@pytest.mark.django_db(databases=[])
def test_the_production_web_server_is_gunicorn_with_https_only_settings(tmp_path):
    """The command serve starts in production, run for real with the README's production
    environment: gunicorn answers, redirects plain HTTP and sends HSTS behind the proxy,
    with a Content-Security-Policy and no Server header."""
    port = _free_port()
    with override_settings(PRODUCTION=True):
        name, command = serve.web_server_command("127.0.0.1", str(port))
    env = base_env(
        ENVIRONMENT="production",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="hq.example.com",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'hq.sqlite3'}",
        CHANNEL_DATABASE_URLS=f"channel=sqlite:///{tmp_path / 'channel.sqlite3'}",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}/admin/login/"
        deadline = time.monotonic() + 30
        while True:
            try:
                plain = _get(url)
                break
            except urllib.error.URLError:
                assert process.poll() is None, process.communicate()[1][-3000:]
                assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
                time.sleep(0.2)
        proxied = _get(url, **{"X-Forwarded-Proto": "https"})
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)

    assert name == "gunicorn"
    assert plain.status == 301
    assert plain.headers["Location"] == "https://hq.example.com/admin/login/"
    assert proxied.status == 200
    assert proxied.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert "Set-Cookie" not in proxied.headers or "Secure" in proxied.headers["Set-Cookie"]
    # No header names the server software (commerce/gunicorn_conf.py), on either answer.
    assert "Server" not in plain.headers and "Server" not in proxied.headers
    assert "script-src 'self'" in proxied.headers["Content-Security-Policy"]
    assert "Starting gunicorn" in err  # gunicorn's own log, not runserver's
    assert "Control socket" not in err  # none at a path every gunicorn of the user shares


def test_serve_in_production_refuses_a_superuser_with_a_well_known_password(
    fake_children, tmp_path
):
    admin_user_ensure()  # the database was first set up in development: admin/admin
    get_user_model().objects.create_superuser(username="ops", password="a long passphrase 1")

    with production(tmp_path), pytest.raises(CommandError) as raised:
        run_serve()

    message = str(raised.value)
    assert message == (
        "ENVIRONMENT=production: not serving while admin has a well-known password; "
        "change it with manage.py changepassword admin"
    )
    assert fake_children == []  # neither gunicorn nor the cluster was started


@pytest.mark.django_db(databases=[])
def test_manage_py_serve_in_production_exits_non_zero_with_one_line(tmp_path):
    """The real command on a database first set up in development."""
    databases = {
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hq.sqlite3'}",
        "CHANNEL_DATABASE_URLS": f"channel=sqlite:///{tmp_path / 'channel.sqlite3'}",
    }
    development = base_env(ENVIRONMENT="development", **databases)
    manage(development, "setup_databases")
    finished(
        python(
            development, "from devtools.demo.loading import admin_user_ensure\nadmin_user_ensure()"
        )
    )
    env = base_env(
        ENVIRONMENT="production",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="hq.example.com",
        **databases,
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--addrport", f"127.0.0.1:{_free_port()}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.terminate()  # serve stops its gunicorn and cluster itself
        _out, err = process.communicate(timeout=60)
        pytest.fail("serve started in production with admin/admin")

    assert process.returncode != 0
    assert err.splitlines() == [
        "CommandError: ENVIRONMENT=production: not serving while admin has a well-known "
        "password; change it with manage.py changepassword admin"
    ]


@pytest.mark.django_db(databases=[])
def test_production_installs_no_development_tools_but_serves(tmp_path):
    env = base_env(
        ENVIRONMENT="production",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="hq.example.com",
        VAR_DIR=str(tmp_path),
    )

    commands = manage(env, "help", "--commands").stdout.split()

    assert "serve" in commands
    for development_tool in ("setup_demo", "benchmark", "benchmark_matching"):
        assert development_tool not in commands
    assert "System check identified no issues" in manage(env, "check").stdout
