"""Settings, read from the environment (12-factor) with embedded defaults.

Embedded default: SQLite files under ``var/`` (HQ plus two channel databases) and
the django-q2 ORM broker on HQ. ``DATABASE_URL``, ``CHANNEL_DATABASE_URLS`` and
``REDIS_URL`` switch to PostgreSQL and Redis without code changes.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEVELOPMENT_SECRET_KEY = "dev-insecure-commerce-async-customers-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = os.environ.get("DEBUG", "1").lower() in {"1", "true", "yes", "on"}
# ENVIRONMENT=production refuses to start with development settings.
ENVIRONMENT = os.environ.get("ENVIRONMENT", "development").lower()
if ENVIRONMENT == "production":
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "ENVIRONMENT=production: set SECRET_KEY to a random value of 32+ characters"
        )
    if DEBUG:
        raise ImproperlyConfigured("ENVIRONMENT=production: set DEBUG=0")
    if os.environ.get("ALLOWED_HOSTS", "*").strip() in {"", "*"}:
        raise ImproperlyConfigured(
            "ENVIRONMENT=production: set ALLOWED_HOSTS to the site's host names"
        )
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "commerce.apps.CommerceConfig",
    "customers.apps.CustomersConfig",
    "jobs.apps.JobsConfig",
    "jobs.devtools.apps.DevtoolsConfig",
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
]

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


def _database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = "commerce.sqlite3"
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
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
            raise ImproperlyConfigured(f"CHANNEL_DATABASE_URLS: expected alias=url, got {item!r}")
        if alias == HQ_DATABASE or alias in urls:
            raise ImproperlyConfigured(
                f"CHANNEL_DATABASE_URLS: alias {alias!r} is reserved or repeated"
            )
        urls[alias] = url.strip()
    if not urls:
        raise ImproperlyConfigured("CHANNEL_DATABASE_URLS names no channel database")
    return urls


DATABASES = {
    HQ_DATABASE: _database(os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hq.sqlite3'}"))
}
CHANNEL_DATABASE_URLS = _channel_database_urls(
    os.environ.get(
        "CHANNEL_DATABASE_URLS",
        f"channel=sqlite:///{VAR_DIR / 'channel.sqlite3'},"
        f"channel2=sqlite:///{VAR_DIR / 'channel2.sqlite3'}",
    )
)
for _alias, _url in CHANNEL_DATABASE_URLS.items():
    DATABASES[_alias] = _database(_url)
CHANNEL_DATABASES = list(CHANNEL_DATABASE_URLS)

DATABASE_ROUTERS = ["commerce.routers.DatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Rows per batch in the conversion jobs: one upload/download session, one account
# creation transaction. Larger batches mean fewer queries per customer; at most 5000,
# which keeps every statement under SQLite's 32,766 bound parameters.
CONVERSION_BATCH_SIZE = min(max(int(os.environ.get("CONVERSION_BATCH_SIZE", "5000")), 1), 5000)


# A running job run that has not reported for this long is taken as dead (its worker
# was killed) and the same job for the same scope may run again.
JOB_LEASE_SECONDS = int(os.environ.get("JOB_LEASE_SECONDS", "300"))
JOB_QUEUED_LEASE_SECONDS = int(os.environ.get("JOB_QUEUED_LEASE_SECONDS", "3600"))


# --- Queue (django-q2) -------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": os.environ.get("Q_CLUSTER_NAME", "commerce"),
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": int(os.environ.get("Q_TIMEOUT", "1800")),
    "retry": int(os.environ.get("Q_RETRY", "1900")),
    "max_attempts": 1,
    "queue_limit": 50,
    "bulk": 1,
    # No catch-up storm after downtime: a missed schedule runs once, not once per miss.
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Django Q2",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = HQ_DATABASE
    Q_CLUSTER["poll"] = float(os.environ.get("Q_POLL", "0.5"))


# --- Auth, i18n, static ------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
LOGIN_URL = "admin:login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "commerce": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "customers": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "jobs": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    },
}
