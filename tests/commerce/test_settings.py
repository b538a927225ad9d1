"""Production settings refuse development values; the embedded default needs nothing."""

import subprocess
import sys

import pytest

from tests.support import ROOT, base_env

PROBE = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
SECURITY_PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.ENVIRONMENT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE)"
)


def settings_with(probe=PROBE, **env):
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=base_env(**env), capture_output=True, text=True
    )


# A key as the README makes one (secrets.token_urlsafe(50)): 67 characters, many distinct.
PRODUCTION_KEY = "q3Vb8Zt0-kR9wYpL2_mX7sNcF4hJ6gD1aE5uT8iO0pW3zQ9vB2nM7xC4lK6jH1gS5d"
GOOD = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": PRODUCTION_KEY,
    "DEBUG": "0",
    "ALLOWED_HOSTS": "hq.example.com",
}


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


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


@pytest.mark.parametrize(
    "override, message",
    [
        # What `check --deploy` flags (security.W009), each refused with the reason.
        ({"SECRET_KEY": "k" * 31 + "ABCDE"}, "SECRET_KEY has only 36 characters; set SECRET_KEY"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY has only 2 distinct characters; set"),
        (
            {"SECRET_KEY": "django-insecure-" + PRODUCTION_KEY},
            "SECRET_KEY starts with 'django-insecure-'; set SECRET_KEY",
        ),
        ({"SECRET_KEY": "x" * 50}, "SECRET_KEY has only 1 distinct character;"),
        ({"ALLOWED_HOSTS": "hq.example.com,*"}, "set ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*.example.com"}, "without '*'"),
        ({"ALLOWED_HOSTS": ""}, "set ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": " , "}, "set ALLOWED_HOSTS"),
        ({"ENVIRONMENT": "prodution"}, "ENVIRONMENT: expected production (or prod)"),
        ({"ENVIRONMENT": "staging"}, "got 'staging'"),
        ({"SECURE_SSL_REDIRECT": "maybe"}, "SECURE_SSL_REDIRECT: expected 1/0"),
        ({"SECURE_HSTS_SECONDS": "1y"}, "SECURE_HSTS_SECONDS: expected a whole number"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}, "SECURE_PROXY_SSL_HEADER"),
    ],
)
def test_production_refuses_what_check_deploy_flags_with_one_line(override, message):
    result = settings_with(**{**GOOD, **override})

    assert result.returncode != 0
    assert message in last_line(result)
    assert last_line(result).startswith("django.core.exceptions.ImproperlyConfigured: ")
    if "SECRET_KEY" in override:
        assert override["SECRET_KEY"] not in result.stderr  # the key is never echoed


@pytest.mark.parametrize("environment", ["production", "prod", " Production ", "PROD\n"])
def test_production_is_recognized_however_it_is_written(environment):
    unsafe = settings_with(**{**GOOD, "ENVIRONMENT": environment, "DEBUG": "1"})
    safe = settings_with(SECURITY_PROBE, **{**GOOD, "ENVIRONMENT": environment})

    assert unsafe.returncode != 0 and "set DEBUG=0" in last_line(unsafe)
    assert safe.returncode == 0, safe.stderr
    assert safe.stdout.split() == ["production", "31536000", "True", "True", "None"] + [
        "True",
        "True",
    ]


def test_production_security_settings_follow_the_environment():
    result = settings_with(
        SECURITY_PROBE,
        **GOOD,
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="no",
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "production",
        "600",
        "False",
        "False",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "True",
    ]


def test_development_is_the_default_and_keeps_its_conveniences():
    result = settings_with(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.ENVIRONMENT, s.DEBUG, s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT)",
        ENVIRONMENT="",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["development", "True", "['*']", "False"]


def production_env(tmp_path, **overrides) -> dict:
    """The README's "Running in production" environment, on SQLite files in tmp_path."""
    return {
        "ENVIRONMENT": "production",
        "DEBUG": "0",
        "SECRET_KEY": PRODUCTION_KEY,
        "ALLOWED_HOSTS": "hq.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://hq.example.com",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hq.sqlite3'}",
        "CHANNEL_DATABASE_URLS": (
            f"channel=sqlite:///{tmp_path / 'channel.sqlite3'},"
            f"channel2=sqlite:///{tmp_path / 'channel2.sqlite3'}"
        ),
        **overrides,
    }


def check_deploy(env: dict):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=base_env(**env),
        capture_output=True,
        text=True,
    )


def test_check_deploy_finds_no_issue_with_the_documented_production_environment(tmp_path):
    result = check_deploy(production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_what_an_override_turns_off(tmp_path):
    result = check_deploy(production_env(tmp_path, SECURE_SSL_REDIRECT="0"))

    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_production_starts_with_production_settings():
    result = settings_with(**GOOD)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_bad_channel_database_urls_is_a_clear_error():
    result = settings_with(CHANNEL_DATABASE_URLS="channel")

    assert result.returncode != 0
    assert "CHANNEL_DATABASE_URLS: expected alias=url" in result.stderr


def manage_check(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=base_env(**env),
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("DEBUG", "maybe", "expected 1/0, true/false, yes/no or on/off"),
        ("CONVERSION_TRIGGERS", "sometimes", "expected 1/0, true/false, yes/no or on/off"),
        ("CONVERSION_BATCH_SIZE", "abc", "expected a whole number from 1 to 5000"),
        ("CONVERSION_BATCH_SIZE", "0", "expected a whole number from 1 to 5000"),
        ("CONVERSION_BATCH_SIZE", "6000", "expected a whole number from 1 to 5000"),
        ("Q_WORKERS", "-1", "expected a whole number of 1 or more"),
        ("Q_POLL", "fast", "expected a number greater than 0"),
        ("JOB_LEASE_SECONDS", "x", "expected a whole number of 1 or more"),
        ("JOB_QUEUED_GRACE_SECONDS", "1.5", "expected a whole number of 0 or more"),
        ("AXES_FAILURE_LIMIT", "0", "expected a whole number of 1 or more"),
        ("DB_CONN_MAX_AGE", "forever", "expected a whole number of 0 or more"),
        ("DISTRIBUTION_COMPLETE_SECONDS", "-5", "expected a whole number of 0 or more"),
        ("DISTRIBUTION_CHANGE_MARGIN_SECONDS", "5m", "expected a whole number of 0 or more"),
    ],
)
def test_a_value_settings_cannot_read_is_one_line_naming_the_variable(variable, value, expected):
    result = manage_check(**{variable: value})

    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{variable}: {expected}, got {value!r}"]
    assert result.stdout == ""


def test_manage_py_refuses_production_settings_with_one_line():
    result = manage_check(**{**GOOD, "DEBUG": "1"})

    assert result.returncode == 1
    assert result.stderr.splitlines() == ["ENVIRONMENT=production: set DEBUG=0"]


DEFAULTS_PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.CONVERSION_TRIGGERS, "
    "s.CONVERSION_BATCH_SIZE, s.JOB_LEASE_SECONDS, s.JOB_QUEUED_LEASE_SECONDS, "
    "s.JOB_QUEUED_GRACE_SECONDS, s.Q_CLUSTER['name'], s.Q_CLUSTER['workers'], "
    "s.Q_CLUSTER['timeout'], s.Q_CLUSTER['retry'], s.Q_CLUSTER['poll'], "
    "s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), "
    "s.DATABASES['default']['CONN_MAX_AGE'], s.LOGGING['loggers']['jobs']['level'], "
    "sorted(s.DATABASES))"
)
DOCUMENTED = {
    "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "CONVERSION_TRIGGERS",
    "CONVERSION_BATCH_SIZE", "JOB_LEASE_SECONDS", "JOB_QUEUED_LEASE_SECONDS",
    "JOB_QUEUED_GRACE_SECONDS", "Q_CLUSTER_NAME", "Q_WORKERS", "Q_TIMEOUT", "Q_RETRY",
    "Q_POLL", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES", "DB_CONN_MAX_AGE", "LOG_LEVEL",
    "DATABASE_URL", "CHANNEL_DATABASE_URLS", "REDIS_URL", "ENVIRONMENT",
}  # fmt: skip


def test_defaults_are_the_documented_ones():
    """README "Configuration": every default, with none of its variables set."""
    env = {k: v for k, v in base_env().items() if k not in DOCUMENTED}
    result = subprocess.run(
        [sys.executable, "-c", DEFAULTS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "['*']", "[]", "True", "5000", "300", "3600", "10", "commerce", "2", "1800",
        "1900", "0.2", "5", "900.0", "60", "INFO", "['channel',", "'channel2',", "'default']",
    ]  # fmt: skip


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_number_or_flag_takes_its_default(blank):
    result = settings_with(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CONVERSION_BATCH_SIZE, s.JOB_LEASE_SECONDS, s.CONVERSION_TRIGGERS)",
        CONVERSION_BATCH_SIZE=blank,
        JOB_LEASE_SECONDS=blank,
        CONVERSION_TRIGGERS=blank,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5000", "300", "True"]


def test_values_are_read_as_written():
    result = settings_with(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.CONVERSION_TRIGGERS, s.CONVERSION_BATCH_SIZE, "
        "s.Q_CLUSTER['workers'], s.Q_CLUSTER['poll'], s.JOB_LEASE_SECONDS)",
        DEBUG=" Off ",
        ALLOWED_HOSTS=" a.example.com, ,b.example.com ",
        CONVERSION_TRIGGERS="no",
        CONVERSION_BATCH_SIZE="1",
        Q_WORKERS="8",
        Q_POLL="0.25",
        JOB_LEASE_SECONDS="15",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False", "['a.example.com',", "'b.example.com']", "False", "1", "8", "0.25", "15",
    ]  # fmt: skip
