"""Settings, read from the environment (12-factor) with embedded defaults.

Embedded default: SQLite files under ``var/`` (HQ plus two channel databases) and
the django-q2 ORM broker on HQ. ``DATABASE_URL``, ``CHANNEL_DATABASE_URLS`` and
``REDIS_URL`` switch to PostgreSQL and Redis without code changes.

``ENVIRONMENT=production`` (or ``prod``) refuses to start with a value that
``manage.py check --deploy`` would flag, and turns on HTTPS-only cookies, HSTS and the
redirect to HTTPS; each refusal is one line naming the variable to set.

Every variable is read by one strict reader, ``env`` (commerce.environment): a value it
cannot read (``DEBUG=maybe``, ``CONVERSION_BATCH_SIZE=0``) is a one-line start-up error
naming the variable and the value.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from commerce.environment import Env

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# "prod" and " Production" are what people type; an unknown value (a typo such as
# "prodution") must not fall back to development settings on a production host.
ENVIRONMENTS = {
    "production": "production",
    "prod": "production",
    "development": "development",
    "dev": "development",
}
_environment = env.str("ENVIRONMENT").strip().lower() or "development"
if _environment not in ENVIRONMENTS:
    raise env.refused(
        "ENVIRONMENT", "production (or prod) or development (or dev)", env.str("ENVIRONMENT")
    )
ENVIRONMENT = ENVIRONMENTS[_environment]
PRODUCTION = ENVIRONMENT == "production"

DEVELOPMENT_SECRET_KEY = "dev-insecure-commerce-async-customers-change-me"
SECRET_KEY = env.str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])


def _secret_key_problem(key: str) -> str | None:
    """Why ``check --deploy`` would flag ``key`` (security.W009), or None. Never the key."""
    if key == DEVELOPMENT_SECRET_KEY:
        return "SECRET_KEY is the development key"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"SECRET_KEY starts with {SECRET_KEY_INSECURE_PREFIX!r}"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY has only {len(key)} characters"
    distinct = len(set(key))
    if distinct < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY has only {distinct} distinct character{'' if distinct == 1 else 's'}"
    return None


def _proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto`` (or ``HTTP_X_FORWARDED_PROTO``) -> Django's setting."""
    header = raw.strip()
    if not header:
        return None
    meta = header.upper().replace("-", "_")
    if not meta.startswith("HTTP_"):
        meta = f"HTTP_{meta}"
    if not meta[5:] or not all(c.isascii() and (c.isalnum() or c == "_") for c in meta):
        raise env.refused("SECURE_PROXY_SSL_HEADER", "a header name such as X-Forwarded-Proto", raw)
    return (meta, "https")


if PRODUCTION:
    _problem = _secret_key_problem(SECRET_KEY)
    if _problem:
        raise ImproperlyConfigured(
            f"ENVIRONMENT=production: {_problem}; set SECRET_KEY to a random value of "
            f"{SECRET_KEY_MIN_LENGTH}+ characters, e.g. python3 -c "
            f"'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if DEBUG:
        raise ImproperlyConfigured("ENVIRONMENT=production: set DEBUG=0")
    if not ALLOWED_HOSTS or any("*" in host for host in ALLOWED_HOSTS):
        raise ImproperlyConfigured(
            "ENVIRONMENT=production: set ALLOWED_HOSTS to the site's host names, "
            "comma-separated, without '*' (.example.com matches every subdomain), "
            f"got {env.str('ALLOWED_HOSTS')!r}"
        )
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # HTTPS only: browsers remember it for a year (HSTS), plain HTTP is redirected.
    # SECURE_SSL_REDIRECT=0 where the proxy redirects; check --deploy then warns W008.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    # Trusted only when set: behind a TLS-terminating proxy that sets this header (and
    # drops a client's own), a request is HTTPS when the header says so. Without a
    # proxy, trusting it would let any client claim HTTPS.
    SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(env.str("SECURE_PROXY_SSL_HEADER"))

INSTALLED_APPS = [
    "jobs.admin_apps.OperatorAdminConfig",  # django.contrib.admin, grouped index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "csp",
    "commerce.apps.CommerceConfig",
    "customers.apps.CustomersConfig",
    # The development tools (demo data, load generator, benchmark) are not installed in
    # production. Before jobs: their serve (demo, development server) extends the
    # product's (README "Running in production").
    *([] if PRODUCTION else ["devtools.apps.DevtoolsConfig"]),
    "jobs.apps.JobsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp) on every response: scripts only from the site's
# own files (no inline script, no eval), nothing framed, plugins off. Styles allow
# 'unsafe-inline': the pages carry <style> blocks and style="" attributes with computed
# values (status colours, progress bars), and Django's own change list has one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "commerce.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # Admin actions that queued work show its outcome when it is done.
                "jobs.watched_runs.watched_job_runs",
            ],
        },
    },
]

WSGI_APPLICATION = "commerce.wsgi.application"


# --- Databases ---------------------------------------------------------------
HQ_DATABASE = "default"

SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock when a transaction starts, so two processes
    # that read-then-write (sequence allocation, row claims) queue instead of
    # failing with "database is locked" on lock upgrade.
    "transaction_mode": "IMMEDIATE",
    "timeout": 60,
    # Bulk statements carry thousands of parameters; caching 128 of them per connection
    # (the default) keeps hundreds of MB of compiled statements alive.
    "cached_statements": 16,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


# Persistent connections: a cluster worker runs a chain every few tenths of a second
# under load, and opening its HQ and channel connections anew for each (a PostgreSQL
# backend each) cost as much as the chain's queries (README "Freshness"). Checked before
# reuse, so a connection the server dropped is replaced, not failed on.
_conn_max_age = env.int("DB_CONN_MAX_AGE", 60, minimum=0)


def _database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=_conn_max_age, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "commerce.db.sqlite3"
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
        # Django's default for SQLite test databases, said aloud: pytest-xdist's workers
        # (README "Tests") otherwise derive a file name from NAME, a path, per worker.
        config["TEST"] = {"NAME": ":memory:"}
    return config


def _channel_database_urls(raw: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        alias, sep, url = item.partition("=")
        alias = alias.strip()
        if not sep or not alias or not url.strip():
            raise env.refused("CHANNEL_DATABASE_URLS", "alias=url", item)
        if alias == HQ_DATABASE or alias in urls:
            raise ImproperlyConfigured(
                f"CHANNEL_DATABASE_URLS: alias {alias!r} is reserved or repeated"
            )
        urls[alias] = url.strip()
    if not urls:
        raise ImproperlyConfigured("CHANNEL_DATABASE_URLS names no channel database")
    return urls


DATABASES = {HQ_DATABASE: _database(env.str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hq.sqlite3'}"))}
CHANNEL_DATABASE_URLS = _channel_database_urls(
    env.str(
        "CHANNEL_DATABASE_URLS",
        f"channel=sqlite:///{VAR_DIR / 'channel.sqlite3'},"
        f"channel2=sqlite:///{VAR_DIR / 'channel2.sqlite3'}",
    )
)
for _alias, _url in CHANNEL_DATABASE_URLS.items():
    DATABASES[_alias] = _database(_url)
CHANNEL_DATABASES = list(CHANNEL_DATABASE_URLS)

DATABASE_ROUTERS = ["commerce.db.routers.DatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Freshness: a store write triggers its channel database's conversion after commit.
# "0" turns the triggers off (the schedules still convert every write).
CONVERSION_TRIGGERS = env.bool("CONVERSION_TRIGGERS", True)


# Rows per batch in the conversion jobs: one upload/download session, one account
# creation transaction. Larger batches mean fewer queries per customer; at most 5000,
# which keeps every statement under SQLite's 32,766 bound parameters.
CONVERSION_BATCH_SIZE = env.int("CONVERSION_BATCH_SIZE", 5000, minimum=1, maximum=5000)


# A running job run that has not reported for this long is taken as dead (its worker
# was killed) and the same job for the same scope may run again.
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", 300, minimum=1)
JOB_QUEUED_LEASE_SECONDS = env.int("JOB_QUEUED_LEASE_SECONDS", 3600, minimum=1)
# A queued run whose task has not started this long after it was handed to the queue (no
# cluster running, a task lost with its broker) is taken over by the next request for its
# job and scope: a trigger, the schedule or a command (jobs.enqueueing).
JOB_QUEUED_GRACE_SECONDS = env.int("JOB_QUEUED_GRACE_SECONDS", 10)
# README "Freshness": a triggered distribution (1010) looks at every customer when the
# last run that did began more than DISTRIBUTION_COMPLETE_SECONDS ago; otherwise only at
# the customers changed since that run began, less DISTRIBUTION_CHANGE_MARGIN_SECONDS
# (longer than a transaction that changes customers runs, and than the app servers'
# clocks differ). A run that is not triggered always looks at every customer.
DISTRIBUTION_COMPLETE_SECONDS = env.int("DISTRIBUTION_COMPLETE_SECONDS", 60, minimum=0)
DISTRIBUTION_CHANGE_MARGIN_SECONDS = env.int("DISTRIBUTION_CHANGE_MARGIN_SECONDS", 300, minimum=0)

# R15 retention (README, Retention): `purge` and its daily schedule delete what the
# product no longer needs once it is this many days old.
RETENTION_DAYS = env.int("RETENTION_DAYS", 30, minimum=0)
# README "Retention": the event log (the audit trail) is kept longer.
EVENT_LOG_RETENTION_DAYS = env.int("EVENT_LOG_RETENTION_DAYS", 365, minimum=0)


# --- Queue (django-q2) -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL")
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", "commerce"),
    "workers": env.int("Q_WORKERS", 2, minimum=1),
    "timeout": env.int("Q_TIMEOUT", 1800, minimum=1),
    "retry": env.int("Q_RETRY", 1900, minimum=1),
    "max_attempts": 1,
    "queue_limit": 50,
    "bulk": 1,
    # No catch-up storm after downtime: a missed schedule runs once, not once per miss.
    "catch_up": False,
    # Every task's result is kept, and ``purge`` deletes those of succeeded tasks past
    # RETENTION_DAYS (README "Retention"): with a limit, the cluster's monitor reads
    # every kept result under a row lock each time a task ends, to delete the oldest.
    "save_limit": 0,
    "ack_failures": True,
    "label": "Django Q2",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = HQ_DATABASE
    # How long the cluster waits before it looks at an empty ORM queue again: most of a
    # store's wait for its conversion here (README "Freshness"). django-q2's own default;
    # an idle cluster reads the queue five times a second.
    Q_CLUSTER["poll"] = env.float("Q_POLL", 0.2)


# --- Auth, i18n, static ------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused (HTTP 429, even with the right
# password) for AXES_COOLOFF_MINUTES. Username and address together, so nobody can lock
# an operator out from elsewhere; `manage.py axes_reset` lifts every lock-out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind the TLS proxy REMOTE_ADDR is the proxy's: every client then shares one address,
# and the lock-out is per username alone.

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Display formats with seconds and ISO dates on every admin page (commerce/formats/).
FORMAT_MODULE_PATH = ["commerce.formats"]
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
LOGIN_URL = "admin:login"

_log_level = env.str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "commerce": {"handlers": ["console"], "level": _log_level},
        "customers": {"handlers": ["console"], "level": _log_level},
        "jobs": {"handlers": ["console"], "level": _log_level},
    },
}
