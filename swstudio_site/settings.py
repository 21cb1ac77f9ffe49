"""SW Studio settings.

Everything is read from the environment (or a `.env` file beside manage.py) with
django-environ. With nothing set, the app runs its embedded defaults: SQLite, the
django-q2 ORM broker and the bundled sandbox standing in for Salesforce and the
SalesWings backend. `.env.example` lists every variable.
"""

import datetime
import ipaddress
import os
from pathlib import Path

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured


class Env(environ.Env):
    """django-environ's reader, naming the variable when its value is not of its type
    (`SALESFORCE_RETRY_ATTEMPTS=five`), rather than int()'s bare "invalid literal"."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{var}={os.environ.get(var, '')!r} is not valid: {exc}"
            ) from None


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(Env().str("SWSTUDIO_VAR_DIR", default=str(BASE_DIR / "var")))

env = Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# --- core -------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=True)
_DEV_SECRET_KEY = "swstudio-embedded-default-not-for-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. It is required when DEBUG is off, and every machine of one "
        "deployment (web and qcluster) must share it."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS hardening: on by default in production (DEBUG off). Behind a TLS-terminating proxy set
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO so Django knows the request was HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (env.str("SECURE_PROXY_SSL_HEADER"), "https")

INSTALLED_APPS = [
    # django.contrib.admin, with SW Studio's admin site (branding, the Setup page).
    "syncapp.admin_site.SWStudioAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "csp",
    "syncapp",
]

# The sandbox stands in for Salesforce and the SalesWings backend. It is on in the embedded
# configuration and must be off in production (the product never imports it).
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("sandbox")
# Where the sandbox is served (the web server of this app in the embedded configuration): on
# PORT, as scripts/start serves it, so `PORT=8001 manage.py runwatcher` finds it too.
SANDBOX_BASE_URL = env.str(
    "SANDBOX_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"
)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every error under /Sync/v1/ in the API's JSON shape.
    "syncapp.api.middleware.JSONErrorsMiddleware",
    # The database or the broker gone: 503 and one log line naming the variable (no traceback).
    "syncapp.startup.StartupProblemMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "swstudio_site.urls"
WSGI_APPLICATION = "swstudio_site.wsgi.application"

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

# --- database ---------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
# Keep connections between requests and between tasks: every step job would otherwise open a
# new connection (a PostgreSQL handshake, or SQLite's WAL set-up), on the hand-off's path.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # libpq waits without end for a server that accepts the connection and never answers
    # (a hung server, a proxy in front of a dead one): a worker, a request or /readyz would
    # hang with it. `?connect_timeout=` in DATABASE_URL overrides this.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=10)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE makes every atomic block take the
    # write lock when it begins, so two read-then-write transitions on the sync state queue up
    # behind each other instead of failing with "database is locked" half-way through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Keep connections across requests (gunicorn threads): opening a SQLite connection runs
    # the PRAGMAs above and starts with a cold page cache, several times the cost of a small
    # request of the sandbox.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Tests share the database with real qcluster processes, so it must be a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ------------------------------------------------------------------------------------

# The API's POST rate limit counts in the default cache. The default is a memory cache per
# process: with several web processes or machines each counts on its own. CACHE_URL (for
# example redis://redis-host:6379/1, a database of its own) gives one count per user.
# Its query may set TIMEOUT, KEY_PREFIX, VERSION and KEY_FUNCTION (?key_prefix=swstudio: one
# Redis database shared by several deployments).
_CACHE_BASE_OPTIONS = ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")


def cache_config(url):
    """Django's cache settings of a CACHE_URL. django-environ writes the base options of a
    redis:// URL in lower case (as Django's Redis backend takes its OPTIONS), where Django
    reads only upper case: `?key_prefix=` would be dropped without a word."""
    config = env.cache_url_config(url)
    for key in list(config):
        if key.upper() in _CACHE_BASE_OPTIONS:
            config[key.upper()] = config.pop(key)
    return config


CACHES = {"default": cache_config(env.str("CACHE_URL", default="locmemcache://"))}

# --- django-q2 ----------------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
STEP_TIMEOUT = env.int("SWSTUDIO_STEP_TIMEOUT", default=1800)
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="swstudio"),
    "workers": env.int("Q_WORKERS", default=2),
    # A step may stream 100,000 records; it is killed after `timeout` seconds. `retry` must be
    # larger, or django-q2 hands a still-running step to a second worker. Our jobs also refuse
    # to run twice (they only start from Queued), so a re-delivery is harmless either way.
    "timeout": STEP_TIMEOUT,
    "retry": STEP_TIMEOUT + 120,
    # A failed job is not retried by the broker: the step records its failure and the Watcher
    # decides what to restart. Unbounded retries would replay a failed cycle forever.
    "max_attempts": 1,
    "ack_failures": True,
    # After downtime, replaying every missed hourly Watcher slot would start a burst of
    # Watchers; one run after coming back is what we want.
    "catch_up": False,
    # Our own tables (SW Apex Jobs, Async Jobs) are the run history. Keeping django-q2's
    # successful Task rows would make every result save prune the table, which on SQLite
    # under load fails with "database is locked" and silently loses the row. Failures are kept.
    "save_limit": -1,
    # ORM broker only: how often the pusher polls for new tasks. It bounds the step hand-off
    # latency (about the poll interval); 0.05 s keeps it well under the 60 ms target at a few
    # percent of a core when idle (docs/benchmarks.md, Orchestration).
    "poll": env.float("Q_POLL", default=0.05),
    "label": "Tasks (django-q2)",
    "ALT_CLUSTERS": {},
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if env.bool("Q_SYNC", default=False):
    # Tests only: run tasks inline in the calling process.
    Q_CLUSTER["sync"] = True

# --- SW Studio ----------------------------------------------------------------------------------

# The steps a cycle may run, in order (dotted paths of Step classes). Which of them a cycle
# actually runs is decided from Studio Options and Workflow Options when the cycle starts.
SWSTUDIO_DEFAULT_WORKFLOW = [
    # Send-up first: Salesforce-side edits go up before this cycle writes the records.
    "syncapp.engine.steps.sendup.UpdateToSalesWings",
    "syncapp.engine.steps.definitions.GetTags",
    "syncapp.engine.steps.definitions.GetScores",
    "syncapp.engine.steps.prospects.GetProspects",
    "syncapp.engine.steps.prospects.GetProspectPages",
    "syncapp.engine.steps.matching.MatchProspectsToLeads",
    "syncapp.engine.steps.matching.MatchProspectsToContacts",
    "syncapp.engine.steps.cleaning.CleanLeads",
    "syncapp.engine.steps.cleaning.CleanContacts",
    "syncapp.engine.steps.cleaning.CleanOtherRecords",
    "syncapp.engine.steps.aggregation.AggregateTags",
    "syncapp.engine.steps.aggregation.AggregateScores",
    "syncapp.engine.steps.aggregation.AggregateTemperature",
    "syncapp.engine.steps.opportunities.CreateOpportunityTags",
    "syncapp.engine.steps.opportunities.CreateOpportunityScores",
    "syncapp.engine.steps.cleaning.CleanProspects",
    "syncapp.engine.steps.logs.LogShipper",
    "syncapp.engine.steps.wrapup.Finalizer",
    "syncapp.engine.steps.wrapup.Enqueuer",
]
SWSTUDIO_WORKFLOW = env.list("SWSTUDIO_WORKFLOW", default=SWSTUDIO_DEFAULT_WORKFLOW)
# How the Match steps read the records of a batch's e-mails (docs/workflow-steps.md): "auto"
# scans the whole object when that costs fewer API calls than Email IN queries; "in" never
# scans, "scan" always does.
SWSTUDIO_MATCH_READ = env.str("SWSTUDIO_MATCH_READ", default="auto")
if SWSTUDIO_MATCH_READ not in ("auto", "in", "scan"):
    raise ImproperlyConfigured(
        f"SWSTUDIO_MATCH_READ={SWSTUDIO_MATCH_READ!r}: use auto, in or scan."
    )
# A running step writes a heartbeat this often; the Watcher fails a Processing job whose
# heartbeat is older than SWSTUDIO_STALE_AFTER seconds (its worker died) and restarts the sync.
SWSTUDIO_HEARTBEAT_SECONDS = env.int("SWSTUDIO_HEARTBEAT_SECONDS", default=10)
SWSTUDIO_STALE_AFTER = env.int("SWSTUDIO_STALE_AFTER", default=120)
# A job still Queued after this many seconds was lost by the broker (sooner when nothing else
# runs: see engine/watcher.py).
SWSTUDIO_QUEUED_STALE_AFTER = env.int("SWSTUDIO_QUEUED_STALE_AFTER", default=900)
# The Watcher fires hourly, as the product's. The liveness check beside it runs the Watcher's
# safety-net duties every minute: a dead worker's step is found within the stale window plus a
# minute, and the Notification Settings' thresholds are checked to the minute.
SWSTUDIO_WATCHER_INTERVAL_MINUTES = env.int("SWSTUDIO_WATCHER_INTERVAL_MINUTES", default=60)
SWSTUDIO_LIVENESS_INTERVAL_MINUTES = env.int("SWSTUDIO_LIVENESS_INTERVAL_MINUTES", default=1)
# Days an activity read before its prospect is kept waiting for it (GetProspectPages).
SWSTUDIO_WAITING_ACTIVITY_DAYS = env.int("SWSTUDIO_WAITING_ACTIVITY_DAYS", default=7)

# Secrets pasted on the Setup page are encrypted with a key derived from this (default:
# SECRET_KEY). Changing it makes stored secrets unreadable: connect again.
SWSTUDIO_ENCRYPTION_KEY = env.str("SWSTUDIO_ENCRYPTION_KEY", default="")

# Callables (dotted paths) run before a cycle starts; each returns None or a problem string,
# and a problem records a Failed cycle that says why (e.g. the org is below its API reserve).
SWSTUDIO_PREFLIGHT = env.list(
    "SWSTUDIO_PREFLIGHT",
    default=["syncapp.engine.preflight.api_reserve", "syncapp.engine.preflight.org_ready"],
)
# org_ready trusts a passing org check (manage.py checkorg, the Setup page) this many seconds
# old; an older one, or one with gaps, is checked again before the cycle.
SWSTUDIO_ORG_CHECK_MAX_AGE = env.int("SWSTUDIO_ORG_CHECK_MAX_AGE", default=3600)

# --- Salesforce (docs/salesforce-connection.md) ---------------------------------------------------

# Where to log in: https://login.salesforce.com, https://test.salesforce.com or a My Domain.
# Empty: the bundled sandbox's Salesforce stand-in, with its seeded credentials.
SALESFORCE_LOGIN_URL = env.str("SALESFORCE_LOGIN_URL", default="")
SALESFORCE_USERNAME = env.str("SALESFORCE_USERNAME", default="")
SALESFORCE_PASSWORD = env.str("SALESFORCE_PASSWORD", default="")
SALESFORCE_SECURITY_TOKEN = env.str("SALESFORCE_SECURITY_TOKEN", default="")
SALESFORCE_CLIENT_ID = env.str("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET = env.str("SALESFORCE_CLIENT_SECRET", default="")
SALESFORCE_JWT_KEY_FILE = env.str("SALESFORCE_JWT_KEY_FILE", default="")
SALESFORCE_JWT_AUDIENCE = env.str("SALESFORCE_JWT_AUDIENCE", default="")
SALESFORCE_API_VERSION = env.str("SALESFORCE_API_VERSION", default="59.0")
SALESFORCE_CONNECT_TIMEOUT = env.float("SALESFORCE_CONNECT_TIMEOUT", default=10.0)
SALESFORCE_READ_TIMEOUT = env.float("SALESFORCE_READ_TIMEOUT", default=120.0)
# Transient failures (5xx, timeouts, connection errors, UNABLE_TO_LOCK_ROW) are tried this many
# times in all, waiting base * 2^n seconds (capped, with jitter) in between.
SALESFORCE_RETRY_ATTEMPTS = env.int("SALESFORCE_RETRY_ATTEMPTS", default=5)
SALESFORCE_CHECK_TIMEOUT = env.float("SALESFORCE_CHECK_TIMEOUT", default=5.0)
SALESFORCE_RETRY_BASE_DELAY = env.float("SALESFORCE_RETRY_BASE_DELAY", default=1.0)
SALESFORCE_RETRY_MAX_DELAY = env.float("SALESFORCE_RETRY_MAX_DELAY", default=30.0)
# A query goes in the URL of a GET; Salesforce refuses URI + headers above 16,384 bytes (414/431)
# long before SOQL's 100,000-character limit, so IN lists are chunked to fit this budget too.
SALESFORCE_MAX_QUERY_URI_BYTES = env.int("SALESFORCE_MAX_QUERY_URI_BYTES", default=15000)
# Collection calls each Match step keeps in flight while it reads on (scan mode; two Match
# steps run side by side, so the org sees up to twice this). More helps when the org takes long
# a call (triggers, flows); records sharing a parent can then meet UNABLE_TO_LOCK_ROW (retried).
# Salesforce runs any number of calls shorter than 20 s at once, but only 25 longer ones (5 in
# Developer Edition and trial orgs) and 10 whose Apex runs over 5 s: hence at most 10. 4 by
# default: against an org with latency it takes most of what 8 gains over 2, and costs little
# when the org answers at once.
SALESFORCE_WRITE_CONCURRENCY = env.int("SALESFORCE_WRITE_CONCURRENCY", default=4)
if not 1 <= SALESFORCE_WRITE_CONCURRENCY <= 10:
    raise ImproperlyConfigured(
        f"SALESFORCE_WRITE_CONCURRENCY={SALESFORCE_WRITE_CONCURRENCY}: use 1 to 10."
    )

# --- SalesWings backend (docs/saleswings-api.md) ----------------------------------------------

# Base URL of the API when Studio Options' API Endpoint is empty. Empty: the sandbox's
# stand-in at {SANDBOX_BASE_URL}/sandbox/saleswings/api/v1 (resolved when a client is built).
SALESWINGS_API_URL = env.str("SALESWINGS_API_URL", default="")
# The API token when none was connected on the Setup page.
SALESWINGS_API_TOKEN = env.str("SALESWINGS_API_TOKEN", default="")
SALESWINGS_CONNECT_TIMEOUT = env.float("SALESWINGS_CONNECT_TIMEOUT", default=10.0)
SALESWINGS_READ_TIMEOUT = env.float("SALESWINGS_READ_TIMEOUT", default=60.0)
SALESWINGS_RETRY_ATTEMPTS = env.int("SALESWINGS_RETRY_ATTEMPTS", default=5)
SALESWINGS_RETRY_BASE_DELAY = env.float("SALESWINGS_RETRY_BASE_DELAY", default=1.0)
SALESWINGS_RETRY_MAX_DELAY = env.float("SALESWINGS_RETRY_MAX_DELAY", default=30.0)

# --- e-mail -----------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SW Studio <swstudio@localhost>")

# --- auth, i18n, static -----------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Admin login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one user name
# from one address, that pair is refused (429) for AXES_COOLOFF_MINUTES; a success resets the
# count. By name and address together, so nobody can lock an administrator out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): only this site's own scripts, styles, images, fonts
# and fetches; no inline script anywhere. The API docs' one inline <style> carries the nonce
# (templates/api/swagger_ui.html); Swagger UI draws its icons from data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGIN_URL = "admin:login"
# Where a login lands when its `next` is missing or unsafe (another host): the admin, not
# Django's default /accounts/profile/ (no such page).
LOGIN_REDIRECT_URL = "admin:index"
LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = ["swstudio_site.formats"]  # date-times with seconds and zone
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST API ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "syncapp.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SW Studio Sync API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Sync/v1 API (issue 5) ---------------------------------------------------------------------
# One block on purpose: the API's additions to INSTALLED_APPS, REST_FRAMEWORK and
# SPECTACULAR_SETTINGS, so the rest of this file stays untouched.

# Vendored Swagger UI assets: the docs page at /Sync/v1/docs works offline.
INSTALLED_APPS.append("drf_spectacular_sidecar")
# POSTs (turn on/off, restart) per user, in DRF's notation: "30/min", "5/s", "1000/day".
SWSTUDIO_API_POST_RATE = env.str("SWSTUDIO_API_POST_RATE", default="30/min")
_count, _, _period = SWSTUDIO_API_POST_RATE.partition("/")
if not (
    _count.isdigit()
    and _period in {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}
):
    raise ImproperlyConfigured(
        f"SWSTUDIO_API_POST_RATE={SWSTUDIO_API_POST_RATE!r} is not a rate such as 30/min."
    )
REST_FRAMEWORK.update(
    {
        # Every error, DRF's own included, as {"error": {"code": ..., "message": ...}}.
        "EXCEPTION_HANDLER": "syncapp.api.exceptions.api_exception_handler",
    }
)
SPECTACULAR_SETTINGS.update(
    {
        "DESCRIPTION": "Control and observe the SW Studio synchronization. See docs/api.md.",
        "SCHEMA_PATH_PREFIX": "/Sync/v1",
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "syncapp.api.schema.forbid_undocumented_keys",
        ],
        "ENUM_NAME_OVERRIDES": {
            "CycleStatusEnum": "syncapp.models.statuses.CycleStatus",
            "JobStatusEnum": "syncapp.models.statuses.JobStatus",
        },
    }
)

# --- observability (docs/operations.md, "Metrics, health and logs") ---------------------------

# /healthz and /readyz are answered first, before the HTTPS redirect and the host check.
MIDDLEWARE.insert(0, "syncapp.ops.health.HealthMiddleware")
# /metrics' guard refuses a stranger before the CSRF check could tell them the page exists.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"),
    "syncapp.ops.views.MetricsGuardMiddleware",
)
# Seconds /readyz (and /metrics) give the database and the broker to answer.
SWSTUDIO_HEALTH_TIMEOUT = env.float("SWSTUDIO_HEALTH_TIMEOUT", default=0.3)
if not 0 < SWSTUDIO_HEALTH_TIMEOUT <= 5:
    raise ImproperlyConfigured(
        f"SWSTUDIO_HEALTH_TIMEOUT={SWSTUDIO_HEALTH_TIMEOUT}: use a number of seconds up to 5."
    )
# /metrics' guard: a bearer token, and/or the client addresses allowed (IPs or networks,
# e.g. 10.0.0.0/8). Neither set: /metrics is open with DEBUG on and refused with it off.
SWSTUDIO_METRICS_TOKEN = env.str("SWSTUDIO_METRICS_TOKEN", default="")
if SWSTUDIO_METRICS_TOKEN and len(SWSTUDIO_METRICS_TOKEN) < 16:
    raise ImproperlyConfigured(
        "SWSTUDIO_METRICS_TOKEN is too short: use at least 16 random characters "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')."
    )
SWSTUDIO_METRICS_ALLOWED_IPS = []
for _network in env.list("SWSTUDIO_METRICS_ALLOWED_IPS", default=[]):
    try:
        SWSTUDIO_METRICS_ALLOWED_IPS.append(ipaddress.ip_network(_network.strip(), strict=False))
    except ValueError:
        raise ImproperlyConfigured(
            f"SWSTUDIO_METRICS_ALLOWED_IPS: {_network!r} is not an IP address or network "
            "(e.g. 10.0.0.5 or 10.0.0.0/8)."
        ) from None

# plain: one line of text a record (the default); json: one JSON object a line, for a log
# pipeline, with the cycle (SAJ name) and step on every line a step writes.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "syncapp.logcontext.JsonFormatter"},
    },
    "filters": {"step": {"()": "syncapp.logcontext.StepContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["step"],
        },
        # Warnings and errors of the sync, kept for SWLogShipper (Logger Options decide).
        "ship": {"class": "syncapp.logshipping.ShippingHandler", "level": "WARNING"},
    },
    "root": {"handlers": ["console", "ship"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django_q": {"level": env.str("Q_LOG_LEVEL", default="WARNING")}},
}

# --- the sandbox ---------------------------------------------------------------------------------

# Credentials the sandbox's stand-ins accept (stored in the sandbox's settings row when it is
# first used; `manage.py sandbox seed` prints them). Well known on purpose: the sandbox is a
# local demo and test fixture, never a production service.
SANDBOX_SALESWINGS_TOKEN = env.str("SANDBOX_SALESWINGS_TOKEN", default="sw-sandbox-token")
SANDBOX_SF_USERNAME = env.str("SANDBOX_SF_USERNAME", default="sync@swstudio.sandbox")
SANDBOX_SF_PASSWORD = env.str("SANDBOX_SF_PASSWORD", default="sandbox-password")
SANDBOX_SF_CLIENT_ID = env.str("SANDBOX_SF_CLIENT_ID", default="swstudio-sandbox-client-id")
SANDBOX_SF_CLIENT_SECRET = env.str(
    "SANDBOX_SF_CLIENT_SECRET", default="swstudio-sandbox-client-secret"
)
