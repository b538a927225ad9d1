"""Production settings refuse development values; the embedded default needs nothing."""

import subprocess
import sys

import pytest

from tests.support import ROOT, base_env

PROBE = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def settings_with(**env):
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base_env(**env), capture_output=True, text=True
    )


GOOD = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "x" * 50,
    "DEBUG": "0",
    "ALLOWED_HOSTS": "hq.example.com",
}


@pytest.mark.parametrize(
    "override, message",
    [
        ({"SECRET_KEY": ""}, "set SECRET_KEY"),
        ({"SECRET_KEY": "dev-insecure-commerce-async-customers-change-me"}, "set SECRET_KEY"),
        ({"DEBUG": "1"}, "set DEBUG=0"),
        ({"ALLOWED_HOSTS": "*"}, "set ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_development_settings(override, message):
    env = {**GOOD, **override}
    if not env["SECRET_KEY"]:
        env.pop("SECRET_KEY")
    result = settings_with(**env)

    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_with_production_settings():
    result = settings_with(**GOOD)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_bad_channel_database_urls_is_a_clear_error():
    result = settings_with(CHANNEL_DATABASE_URLS="channel")

    assert result.returncode != 0
    assert "CHANNEL_DATABASE_URLS: expected alias=url" in result.stderr
