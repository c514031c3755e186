"""Avatar Studio settings: one module, read from the environment.

The defaults are production's: DEBUG off, and the app refuses to start without what production
needs (a real ``DJANGO_SECRET_KEY``; ``FASHN_API_KEY``, or ``FASHN_OFFLINE_ENGINE=true`` to use the
offline engine on purpose) rather than fall back to something that only works on a developer's
machine. ``make run`` and ``make test`` set ``DJANGO_DEBUG=true``: SQLite under ``var/``, a
development secret key, the offline FASHN engine on 127.0.0.1:8100 when no key is set.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import schedule

from avatar_studio.core.media_storage import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Off unless asked for: a deployment that forgot to set it must not run with development
# defaults (debug pages, a known secret key, an engine on 127.0.0.1).
DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "avatar_studio.core",
    "avatar_studio.accounts",
    "avatar_studio.avatars",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "avatar_studio.api",
    "avatar_studio.shop",
    "avatar_studio.credits",
    "avatar_studio.embed",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "avatar_studio.core.security.ContentSecurityPolicyMiddleware",
    # After SecurityMiddleware: the button's window keeps its opener (see the module).
    "avatar_studio.embed.middleware.EmbedWindowOpenerMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "avatar_studio.accounts.devices.KnownDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that its 413 gets every header the middleware above adds (core.request_limits).
    "avatar_studio.core.request_limits.RequestBodyLimitMiddleware",
]

ROOT_URLCONF = "avatar_studio.urls"
WSGI_APPLICATION = "avatar_studio.wsgi.application"

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

# --- Database -------------------------------------------------------------------------------
VAR_DIR = Path(env.str("AVATAR_STUDIO_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Owner-only: it holds the database (tokens, webhook secrets); `make run` also tightens one
    # made before (runstack.make_local_state_private).
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The web process and the workers write at once: WAL lets readers and one writer coexist,
    # and IMMEDIATE transactions take the write lock up front instead of failing half-way with
    # "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so that worker processes started by the tests share the test database;
    # one per test run, so that two runs on one machine never write to each other's.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The model backend, refusing while an account or address is locked out (accounts.ratelimit).
AUTHENTICATION_BACKENDS = ["avatar_studio.accounts.ratelimit.RateLimitedModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "avatars:upload"
LOGOUT_REDIRECT_URL = "avatars:upload"

# Password reset mail: printed to the console in development, SMTP in production.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_URL = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_HOST, EMAIL_PORT = EMAIL_URL["EMAIL_HOST"], EMAIL_URL["EMAIL_PORT"]
EMAIL_HOST_USER = EMAIL_URL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_URL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_URL.get("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Avatar Studio <studio@localhost>")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Selfies and avatars are private: MEDIA_ROOT is never served as a public URL; owners and staff
# get files through views that check access (or signed URLs on S3).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Stored files (selfies, avatars, thumbnails) and the folders made for them are the owner's
# alone: Django's defaults (0644, and folders by the umask) let every local user read them.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# MEDIA_STORAGE=filesystem (default) or s3, with the AWS_* variables (core.media_storage, README).
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# The production path for private files: with nginx, set this to an `internal` location that
# maps to MEDIA_ROOT (e.g. "/protected-media/") and the app answers with X-Accel-Redirect after
# checking access, so nginx streams the file. On S3 the app redirects to a short-lived signed URL.
MEDIA_ACCEL_REDIRECT_PREFIX = env.str("MEDIA_ACCEL_REDIRECT_PREFIX", default="")
SHARE_LINK_DEFAULT_DAYS = 7

# Uploads over this size are refused before the image is decoded.
SELFIE_MAX_UPLOAD_BYTES = env.int("SELFIE_MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
# The most any request body may be: a longer declared Content-Length is answered 413 before
# anything reads it, and a body without one, or an upload, once it passes this while being read,
# so no more than this is ever written to disk (core.wsgi_limits, core.request_limits). The
# default fits the largest request the app takes: a SELFIE_MAX_UPLOAD_BYTES selfie as a base64
# data URI (4/3 of it) in the API's JSON, with its other fields.
REQUEST_MAX_BODY_BYTES = env.int(
    "REQUEST_MAX_BODY_BYTES", default=SELFIE_MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The cap's handler first: it sees every chunk before the others keep it (memory, then disk).
FILE_UPLOAD_HANDLERS = [
    "avatar_studio.core.request_limits.BodyLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Security (production) ------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Redis and Celery -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Prefix of our own keys in Redis (the FASHN limiter), and the Celery queue: both can be set so
# that several deployments, or test runs, share one Redis without touching each other.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="avatar-studio")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None  # tasks record their outcome in the database, not in Redis
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "sweep-overdue-jobs": {
        "task": "avatars.sweep_overdue_jobs",
        "schedule": schedule(env.float("AVATAR_SWEEP_INTERVAL_SECONDS", default=15.0)),
    },
    # API webhook deliveries whose task message was lost (api.deliveries).
    "sweep-webhook-deliveries": {
        "task": "api.sweep_webhook_deliveries",
        "schedule": schedule(env.float("API_WEBHOOK_SWEEP_INTERVAL_SECONDS", default=60.0)),
    },
    # Selfies past their retention (see the privacy block below and avatars.retention).
    "purge-expired-files": {
        "task": "avatars.purge_expired_files",
        "schedule": schedule(env.float("AVATAR_PURGE_INTERVAL_SECONDS", default=3600.0)),
    },
    # Stored files no row points to, older than an hour (avatars.orphans). Relative: due at the
    # interval's boundaries (a daily one at midnight), so that a beat restarted more often than
    # the interval (a deploy that does not keep the Procfile's /tmp schedule file) still runs it.
    "purge-orphan-files": {
        "task": "avatars.purge_orphan_files",
        "schedule": schedule(
            env.float("AVATAR_ORPHAN_PURGE_INTERVAL_SECONDS", default=24 * 3600.0), relative=True
        ),
    },
}

# --- FASHN ---------------------------------------------------------------------------------
# The FASHN cloud with FASHN_API_KEY (FASHN_BASE_URL left at its default); the offline engine
# that `make run` starts with FASHN_OFFLINE_ENGINE=true, which development (DEBUG) assumes when no
# key is set. Same code path either way. Outside development a missing key is a start-up error:
# falling back to an engine on 127.0.0.1 would only fail later, on the first avatar.
OFFLINE_ENGINE_HOST = env.str("OFFLINE_ENGINE_HOST", default="127.0.0.1")
OFFLINE_ENGINE_PORT = env.int("OFFLINE_ENGINE_PORT", default=8100)
OFFLINE_ENGINE_API_KEY = env.str("ENGINE_API_KEY", default="fashn-offline-key")
# Stripped: a stray newline from an env file would otherwise end up in an HTTP header.
FASHN_API_KEY = env.str("FASHN_API_KEY", default="").strip()
USING_OFFLINE_ENGINE = env.bool("FASHN_OFFLINE_ENGINE", default=DEBUG and not FASHN_API_KEY)
if USING_OFFLINE_ENGINE and FASHN_API_KEY:
    raise environ.ImproperlyConfigured(
        "FASHN_API_KEY and FASHN_OFFLINE_ENGINE=true are both set: unset FASHN_API_KEY to use "
        "the offline engine, or FASHN_OFFLINE_ENGINE to use the FASHN cloud."
    )
if not USING_OFFLINE_ENGINE and not FASHN_API_KEY:
    raise environ.ImproperlyConfigured(
        "FASHN_API_KEY is not set. Set it to your FASHN API key to use the FASHN cloud, or set "
        "FASHN_OFFLINE_ENGINE=true to use the offline engine (OFFLINE_ENGINE_HOST, "
        "OFFLINE_ENGINE_PORT) on purpose."
    )
if not USING_OFFLINE_ENGINE:
    FASHN_BASE_URL = env.str("FASHN_BASE_URL", default="https://api.fashn.ai")
else:
    FASHN_API_KEY = OFFLINE_ENGINE_API_KEY
    FASHN_BASE_URL = env.str(
        "FASHN_BASE_URL", default=f"http://{OFFLINE_ENGINE_HOST}:{OFFLINE_ENGINE_PORT}"
    )
FASHN_CONNECT_TIMEOUT = env.float("FASHN_CONNECT_TIMEOUT", default=5.0)
FASHN_READ_TIMEOUT = env.float("FASHN_READ_TIMEOUT", default=30.0)
# The account's limits, shared by every worker through Redis (FASHN's defaults).
FASHN_MAX_IN_FLIGHT = env.int("FASHN_MAX_IN_FLIGHT", default=6)
FASHN_RUN_RATE = env.str("FASHN_RUN_RATE", default="50/60")  # requests / seconds
FASHN_STATUS_RATE = env.str("FASHN_STATUS_RATE", default="50/10")
# Where FASHN can reach this app (e.g. https://avatars.example.com). When set, every submission
# passes a webhook_url holding a fresh secret for that attempt, and FASHN's call brings the next
# status check forward; polling stays the safety net. Empty: polling only.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")

# --- The avatar pipeline ---------------------------------------------------------------------
AVATAR_MAX_ATTEMPTS = env.int("AVATAR_MAX_ATTEMPTS", default=3)
AVATAR_RETRY_BASE_SECONDS = env.float("AVATAR_RETRY_BASE_SECONDS", default=5.0)
AVATAR_RETRY_MAX_SECONDS = env.float("AVATAR_RETRY_MAX_SECONDS", default=120.0)
# The first status check comes near the expected processing time (FASHN quotes 12 s; the offline
# engine answers in under one), then polls back off from the minimum to the cap.
AVATAR_FIRST_POLL_SECONDS = env.float(
    "AVATAR_FIRST_POLL_SECONDS", default=1.0 if USING_OFFLINE_ENGINE else 8.0
)
AVATAR_POLL_MIN_SECONDS = env.float("AVATAR_POLL_MIN_SECONDS", default=1.0)
AVATAR_POLL_MAX_SECONDS = env.float("AVATAR_POLL_MAX_SECONDS", default=15.0)
# Wait before sending again a request FASHN refused for now (429, 5xx) without a Retry-After.
AVATAR_TRANSIENT_RETRY_SECONDS = env.float("AVATAR_TRANSIENT_RETRY_SECONDS", default=5.0)
AVATAR_JOB_DEADLINE_SECONDS = env.float("AVATAR_JOB_DEADLINE_SECONDS", default=30 * 60)
# A claimed step (submit or poll) that has not finished after this long is considered lost.
AVATAR_STEP_LEASE_SECONDS = env.float("AVATAR_STEP_LEASE_SECONDS", default=90.0)
AVATAR_SWEEP_GRACE_SECONDS = env.float("AVATAR_SWEEP_GRACE_SECONDS", default=10.0)
AVATAR_OUTPUT_MAX_BYTES = env.int("AVATAR_OUTPUT_MAX_BYTES", default=40 * 1024 * 1024)
AVATAR_THUMBNAIL_SIZE = (320, 480)

# --- Privacy and security ------------------------------------------------------------------------
# Retention (avatars.retention, published on /privacy/ and in docs/PRIVACY.md): a completed
# avatar's selfie is deleted this many hours after completion (0: as soon as it completes); a
# failed avatar's selfie is kept this many days so that Retry works, then deleted.
AVATAR_COMPLETED_SELFIE_RETENTION_HOURS = env.float(
    "AVATAR_COMPLETED_SELFIE_RETENTION_HOURS", default=0
)
AVATAR_FAILED_SELFIE_RETENTION_DAYS = env.int("AVATAR_FAILED_SELFIE_RETENTION_DAYS", default=7)
# FASHN credits of avatars per user per UTC day, browser and API together (avatars.quota, checked
# at start-up): each avatar reserves its estimated cost, a failed one gives it back, a completed
# one counts what FASHN charged. Staff are exempt. 40 is 20 avatars at the default choices.
AVATAR_DAILY_CREDITS = env.int("AVATAR_DAILY_CREDITS", default=40)
# What users may choose for an avatar (avatars.options, checked at start-up): the defaults the
# upload form and the API start from, and the maxima (resolutions above AVATAR_MAX_RESOLUTION
# and more images than AVATAR_MAX_NUM_IMAGES are not offered; 4k costs the most credits).
AVATAR_DEFAULT_GENERATION_MODE = env.str("AVATAR_DEFAULT_GENERATION_MODE", default="balanced")
AVATAR_DEFAULT_RESOLUTION = env.str("AVATAR_DEFAULT_RESOLUTION", default="1k")
AVATAR_DEFAULT_NUM_IMAGES = env.int("AVATAR_DEFAULT_NUM_IMAGES", default=1)
AVATAR_MAX_RESOLUTION = env.str("AVATAR_MAX_RESOLUTION", default="2k")
AVATAR_MAX_NUM_IMAGES = env.int("AVATAR_MAX_NUM_IMAGES", default=4)
# Provider outputs are downloaded over https from these hosts only (avatars.pipeline.outputs); the
# offline engine's own host:port is allowed over http while it is the configured provider.
FASHN_OUTPUT_HOSTS = env.list("FASHN_OUTPUT_HOSTS", default=["cdn.fashn.ai"])
# Failed logins (accounts.ratelimit): failures allowed per (account, client address) pair or per
# known browser, per client address across accounts, and per account across unknown browsers;
# past them, one attempt per delay, LOGIN_DELAY_SECONDS doubling up to LOGIN_MAX_DELAY_SECONDS.
# A browser that has logged into an account (a signed cookie, LOGIN_KNOWN_DEVICE_DAYS) is slowed
# by its own failures only. Failures are forgotten LOGIN_FAILURE_WINDOW_SECONDS after the last.
LOGIN_FAILURES_BEFORE_DELAY = env.int("LOGIN_FAILURES_BEFORE_DELAY", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=50)
LOGIN_DELAY_SECONDS = env.int("LOGIN_DELAY_SECONDS", default=60)
LOGIN_MAX_DELAY_SECONDS = env.int("LOGIN_MAX_DELAY_SECONDS", default=15 * 60)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=60 * 60)
LOGIN_KNOWN_DEVICE_DAYS = env.int("LOGIN_KNOWN_DEVICE_DAYS", default=90)
# The request header holding the client's address when behind a proxy (e.g. "HTTP_X_REAL_IP", set
# by nginx); empty: REMOTE_ADDR. Without it every client would share the proxy's address.
LOGIN_CLIENT_ADDRESS_HEADER = env.str("LOGIN_CLIENT_ADDRESS_HEADER", default="")
# Sign-up and password reset (accounts.throttle): requests per client address and per email
# address within the window, each action counted on its own; past either, HTTP 429 and no mail.
ACCOUNT_REQUESTS_PER_ADDRESS = env.int("ACCOUNT_REQUESTS_PER_ADDRESS", default=10)
ACCOUNT_REQUESTS_PER_EMAIL = env.int("ACCOUNT_REQUESTS_PER_EMAIL", default=3)
ACCOUNT_REQUEST_WINDOW_SECONDS = env.int("ACCOUNT_REQUEST_WINDOW_SECONDS", default=60 * 60)
# Downloads of "my data" (accounts.export) per account in the same window: each reads every file.
ACCOUNT_DATA_EXPORTS_PER_WINDOW = env.int("ACCOUNT_DATA_EXPORTS_PER_WINDOW", default=3)
# How long the emailed link to finish signing up works (accounts.links).
SIGNUP_LINK_MAX_AGE_SECONDS = env.int("SIGNUP_LINK_MAX_AGE_SECONDS", default=24 * 60 * 60)
# Content-Security-Policy (core.security): extra sources per directive, e.g. a CDN for static
# files: CSP_EXTRA_SOURCES="img-src=https://static.example.com;style-src=https://static.example.com"
CSP_EXTRA_SOURCES = env.str("CSP_EXTRA_SOURCES", default="")
CSP_REPORT_URI = env.str("CSP_REPORT_URI", default="")
# Error reports (the DEBUG 500 page, mails to ADMINS) with the FASHN API key blanked out, even
# where a frame's variables or an exception message hold it (core.security).
DEFAULT_EXCEPTION_REPORTER = "avatar_studio.core.security.RedactingExceptionReporter"


# The cache holds the API's rate-limit counters and the failed-login counters; they only hold if
# every web process shares them. Outside development the cache defaults to the Redis server in
# REDIS_URL, one database up: a database of its own because clearing a Django cache empties its
# whole database (FLUSHDB), which must not take Celery's queues or the FASHN limits with it.
# Development keeps a per-process memory cache (each test starts from an empty one). CACHE_URL
# (e.g. redis://host:6379/1) overrides both.
def _next_redis_database(url):
    """``url`` with its database number plus one, or None when that cannot be derived."""
    parts = urlsplit(url)
    database = parts.path.strip("/") or "0"
    if parts.scheme not in ("redis", "rediss") or not database.isdigit() or "db=" in parts.query:
        return None
    if int(database) >= 15:  # a Redis server has databases 0 to 15 unless configured otherwise
        return None
    return urlunsplit(parts._replace(path=f"/{int(database) + 1}"))


if "CACHE_URL" in os.environ or DEBUG:
    CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
else:
    _cache_location = _next_redis_database(REDIS_URL)
    if _cache_location is None:
        raise environ.ImproperlyConfigured(
            "The cache needs a Redis database of its own, the one after REDIS_URL's "
            f"({REDIS_URL.rpartition('@')[2]}), and there is none: set CACHE_URL, e.g. "
            "redis://host:6379/1."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_location,
        }
    }
# One deployment's (or one `make run` checkout's) counters never meet another's in a shared cache.
CACHES["default"].setdefault("KEY_PREFIX", REDIS_KEY_PREFIX)

# --- JSON API (/api/v1/) ------------------------------------------------------------------------
# Token authentication for servers, the session for the browser. Token comes first so that an
# anonymous request gets 401 with a WWW-Authenticate header rather than 403.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "avatar_studio.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Per user (or per address for anonymous requests); avatar_create also bounds FASHN spend.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="60/minute"),
        "user": env.str("API_USER_RATE", default="600/hour"),
        "avatar_create": env.str("API_AVATAR_CREATE_RATE", default="30/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "avatar_studio.api.errors.api_exception_handler",
}
# A selfie given as an https:// URL is fetched within this time (redirects included).
API_IMAGE_FETCH_TIMEOUT_SECONDS = env.float("API_IMAGE_FETCH_TIMEOUT_SECONDS", default=10.0)

# --- API webhooks (webhook_url on POST /api/v1/avatars/; see docs/API.md) ----------------------
# Deliveries are retried with exponential backoff and jitter (base × 2^(n-1), capped) until
# delivered or API_WEBHOOK_MAX_ATTEMPTS attempts have failed.
API_WEBHOOK_MAX_ATTEMPTS = env.int("API_WEBHOOK_MAX_ATTEMPTS", default=6)
API_WEBHOOK_RETRY_BASE_SECONDS = env.float("API_WEBHOOK_RETRY_BASE_SECONDS", default=10.0)
API_WEBHOOK_RETRY_MAX_SECONDS = env.float("API_WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
API_WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("API_WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
API_WEBHOOK_READ_TIMEOUT_SECONDS = env.float("API_WEBHOOK_READ_TIMEOUT_SECONDS", default=10.0)
# An attempt holds its delivery this long; it must outlast any one attempt (timeouts above).
API_WEBHOOK_CLAIM_SECONDS = env.float("API_WEBHOOK_CLAIM_SECONDS", default=60.0)
# A pending delivery whose task is this late is sent again by the sweeper (a lost message).
API_WEBHOOK_SWEEP_GRACE_SECONDS = env.float("API_WEBHOOK_SWEEP_GRACE_SECONDS", default=60.0)
# Tests and local development only: also allow webhook URLs on loopback (http:// or https://
# to 127.0.0.0/8 or ::1). Never set this in production.
API_WEBHOOK_ALLOW_LOOPBACK_HTTP = env.bool("API_WEBHOOK_ALLOW_LOOPBACK_HTTP", default=False)

# --- Metrics --------------------------------------------------------------------------------
# The bearer token Prometheus sends to /metrics (``Authorization: Bearer <token>``). Empty: the
# endpoint answers 404, as if it did not exist. A long random string (at least 32 characters).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise environ.ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters long.")
# ------------------------------------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "Avatar Studio API",
    "DESCRIPTION": (
        "Turn a selfie into a try-on-ready avatar. Authenticate with `Authorization: Token <key>` "
        "(server to server) or the browser session. Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's JavaScript is served from our static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Webhook events, named by what they are about (avatars and try-ons each have their own).
    "ENUM_NAME_OVERRIDES": {
        "AvatarEventEnum": "avatar_studio.api.webhooks.AVATAR_EVENTS",
        "TryOnEventEnum": "avatar_studio.api.webhooks.TRYON_EVENTS",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
