"""The admin login is throttled (django-axes, README "Running in production"): after
AXES_FAILURE_LIMIT wrong passwords the right one is refused too, for a while."""

import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from tests.support import ROOT, base_env

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "a long passphrase 1"


@pytest.fixture
def operator(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_superuser(username="ops", password=PASSWORD)


def _log_in(client: Client, password: str, *, ip: str = "203.0.113.7"):
    return client.post(
        LOGIN, {"username": "ops", "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def test_after_the_failure_limit_the_right_password_is_refused(operator, settings):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [_log_in(client, "wrong").status_code for _ in range(limit)]

    response = _log_in(client, PASSWORD)

    # The form again with its error, until the failure that reaches the limit locks out.
    assert statuses == [200] * (limit - 1) + [429]

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page
    # The refused right password counts as one more failure.
    assert AccessAttempt.objects.get(username="ops").failures_since_start == limit + 1


def test_below_the_limit_the_right_password_logs_in_and_clears_the_failures(operator, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, "wrong")

    response = _log_in(client, PASSWORD)

    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert not AccessAttempt.objects.filter(username="ops").exists()


def test_a_lock_out_holds_only_for_the_address_that_failed(operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(Client(), "wrong", ip="203.0.113.7")

    elsewhere = _log_in(Client(), PASSWORD, ip="198.51.100.2")

    assert elsewhere.status_code == 302


def test_the_limit_and_the_cool_off_come_from_the_environment():
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=base_env(AXES_FAILURE_LIMIT="3", AXES_COOLOFF_MINUTES="60"),
        capture_output=True,
        text=True,
        check=True,
    )
    defaults = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=base_env(), capture_output=True, text=True
    )

    assert run.stdout.split() == ["3", "3600"]
    assert defaults.stdout.split() == ["5", "900"]
