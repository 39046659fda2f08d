"""Settings for wechathhu, all read from the environment (12-factor).

Every setting is documented in `.env.example`. Production differs from a developer's machine
only by environment values; with nothing set, the project runs on an embedded default:
a SQLite file, a local-memory cache, Celery tasks run in-process and e-mail written to a folder.
"""

import hashlib
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from wechathhu.env import Env, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent

# `.env` at the top of the checkout (or the file ENV_FILE names); the environment wins over it. An
# empty value means the default; a value that cannot be parsed stops start-up naming the variable.
ENV_FILE = load_env_file(BASE_DIR / ".env")
env = Env()

# --- Core ---------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=True)


def _development_secret_key() -> str:
    """Development only: a key derived from the checkout's path, so sessions survive restarts."""
    return "dev-insecure-" + hashlib.sha256(str(BASE_DIR).encode()).hexdigest()


SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL of links in e-mails and messages. Unset, links point at the development server
# (http://127.0.0.1:8000) whatever host serves the site: production warns at start-up (wechathhu.checks).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "wechathhu.admin_apps.WechathhuAdminConfig",  # admin.site is the project's (wechathhu.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "django_htmx",
    "wechathhu",
    "accounts",
    "messaging",
    "reservations",
    "activities",
    "repairs",
    "guides",
    "official",
    "conversations",
    "portal",
]

# Django's browser middleware for language, login and flash messages is skipped for token clients
# (``Authorization: Token|Bearer`` outside /admin/, /api-auth/ and /m/), who need none of it: see
# wechathhu.middleware.is_token_request. Sessions (lazy: some API flows such as WeChat OAuth keep
# state in them) and CSRF (API views are exempt) stay as Django ships them.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wechathhu.middleware.LocaleMiddleware",
    "wechathhu.middleware.TrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "wechathhu.middleware.AuthenticationMiddleware",
    "wechathhu.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.PortalHeadersMiddleware",
    "portal.middleware.PortalGZipMiddleware",
    "accounts.middleware.KnownDeviceCookieMiddleware",
    # An id or a date beyond any column or calendar is a 400 wherever it surfaces (admin filters …).
    "wechathhu.middleware.OutOfRangeMiddleware",
]

if not DEBUG:
    # Compressed, cache-busted static files (admin, Swagger UI) served by the app itself.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

# Diagnostics for the benchmark: every response carries X-Query-Count.
QUERY_COUNT_HEADER = env.bool("QUERY_COUNT_HEADER", default=False)
if QUERY_COUNT_HEADER:
    MIDDLEWARE.append("wechathhu.middleware.QueryCountHeaderMiddleware")
# The benchmark's ceiling: GET /bench/ceiling, a Django view without authentication or DRF.
BENCH_CEILING = env.bool("BENCH_CEILING", default=False)

ROOT_URLCONF = "wechathhu.urls"
WSGI_APPLICATION = "wechathhu.wsgi.application"
ASGI_APPLICATION = "wechathhu.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- Database -----------------------------------------------------------------------------------
# DATABASE_URL: sqlite:///path (default: a file in var/) or mysql://user:pass@host:3306/name.

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))  # local state of the embedded default
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Seconds a persistent MySQL/MariaDB connection is trusted without a new health check (0: before
# every request, as Django does).
DB_HEALTH_CHECK_INTERVAL = env.float("DB_HEALTH_CHECK_INTERVAL", default=1.0)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'wechathhu.sqlite3'}")}
_db = DATABASES["default"]
if "mysql" in _db["ENGINE"]:
    _db.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            # Strict mode: bad data is an error, never silently truncated.
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO', innodb_lock_wait_timeout=10",
            "isolation_level": "read committed",
        }
    )
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    _db.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    _db.setdefault("CONN_HEALTH_CHECKS", True)
    # Django's backend with the health check (a ping) at most every DB_HEALTH_CHECK_INTERVAL
    # seconds per connection instead of before every request (wechathhu/db/mysql/base.py).
    _db["ENGINE"] = "wechathhu.db.mysql"
elif "sqlite" in _db["ENGINE"]:
    # IMMEDIATE transactions take the write lock up front, so concurrent writers queue
    # instead of failing with "database is locked" half-way through a transaction.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# --- Cache, Redis and Celery --------------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise env.invalid("REDIS_URL", REDIS_URL, "not a Redis URL such as redis://127.0.0.1:6379/0")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="wechathhu")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "wechathhu.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "wechathhu",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
# The throttles' counters (login attempts, sends, mails): a cache every process shares, or each
# gunicorn worker would count on its own and a limit would mean N times what it says. With Redis,
# Redis; without, a table of the database (created at every migrate: wechathhu/apps.py).
THROTTLE_CACHE_TABLE = "wechathhu_throttle_cache"
CACHES["throttle"] = (
    {**CACHES["default"]}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": THROTTLE_CACHE_TABLE,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "OPTIONS": {"MAX_ENTRIES": 20000, "CULL_FREQUENCY": 4},
    }
)

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None  # tasks record their outcome on the rows they touch
# Without a broker, tasks run in-process, synchronously (the embedded default).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "max_retries": 2}
CELERY_TIMEZONE = "Asia/Shanghai"
# Tasks one worker process runs at a time (its pool size); default: one per CPU core.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_CONCURRENCY", default=os.cpu_count() or 1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Passwords ----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

# --- Language and time --------------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Files --------------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"  # never served directly: files go out through permission-checked views
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- E-mail -------------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:587 (or smtp+tls://, smtp+ssl://). Absent: files in var/mail.

EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="HHU计信院教师微服务 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST framework and API docs ----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "wechathhu.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON bodies with a nesting limit (a 1 000-deep body is a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": [
        "wechathhu.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "wechathhu.api.negotiation.PortalContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wechathhu.api.exceptions.exception_handler",
    "DEFAULT_METADATA_CLASS": "wechathhu.api.metadata.PortalMetadata",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.rate("THROTTLE_LOGIN", default="10/min"),
        "login_user": env.rate("THROTTLE_LOGIN_USER", default="20/hour"),
        "mail": env.rate("THROTTLE_MAIL", default="10/hour"),
        "register": env.rate("THROTTLE_REGISTER", default="10/hour"),
        "message_send": env.rate("THROTTLE_MESSAGE_SEND", default="120/hour"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "HHU计信院教师微服务 API",
    "DESCRIPTION": (
        "校园门户的接口：小程序接口位于站点根路径（与原有微信小程序客户端兼容），"
        "消息中心接口位于 `/api/v1/`，统一返回 `{code, message, data, timestamp}`。"
        "认证：`Authorization: Token <key>` 或 `Authorization: Bearer <key>`。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "HealthStatusEnum": "wechathhu.api.views.HEALTH_STATES",
        "HealthPartEnum": "wechathhu.api.views.HEALTH_PART_STATES",
    },
}

LOGIN_URL = "/m/login/"  # where a signed-out browser is sent (the H5 portal's login)

# --- Accounts and login -------------------------------------------------------------------------

# A token not used for this long stops working (one token per device/login).
TOKEN_IDLE_TIMEOUT = env.int("TOKEN_IDLE_TIMEOUT", default=14 * 24 * 3600)
# last_used_at is written at most this often per token, so requests are not all writes.
TOKEN_TOUCH_INTERVAL = env.int("TOKEN_TOUCH_INTERVAL", default=60)
# A token and its user are kept this many seconds in the cache (0: off), so a request runs no SQL
# to authenticate; revoking, expiring, saving the user or renaming the department takes effect on
# the next request all the same. Needs a cache every process shares: on by default with Redis.
TOKEN_CACHE_SECONDS = env.int("TOKEN_CACHE_SECONDS", default=60 if REDIS_URL else 0)
TOKEN_CACHE_ALIAS = "default"  # noqa: S105 - a cache name
# Every login is a token of its own (unless the client sends a device_id); a user keeps at most
# this many, the least recently used being revoked beyond it.
ACCOUNTS_MAX_TOKENS_PER_USER = env.int("ACCOUNTS_MAX_TOKENS_PER_USER", default=10)
# A browser that logged in with the right password keeps a random key in this cookie (an app
# proves its device with its device_id): when an account's login limit is reached by someone
# guessing its password, its known devices still get in (accounts/services/login.py).
ACCOUNTS_KNOWN_DEVICE_COOKIE = "wh_device"
ACCOUNTS_KNOWN_DEVICE_DAYS = env.int("ACCOUNTS_KNOWN_DEVICE_DAYS", default=365)
# The browsable API's own login page (/api-auth/login/): another door to password guessing, off in
# production unless enabled (the browsable API itself works with an admin session either way).
API_AUTH_ENABLED = env.bool("API_AUTH_ENABLED", default=DEBUG)

# --- WeChat -------------------------------------------------------------------------------------

WECHAT_APP_ID = env("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env("WECHAT_APP_SECRET", default="")
WECHAT_ENABLED = env.bool("WECHAT_ENABLED", default=bool(WECHAT_APP_ID))
WECHAT_API_BASE_URL = env("WECHAT_API_BASE_URL", default="https://api.weixin.qq.com/")
WECHAT_TIMEOUT = env.float("WECHAT_TIMEOUT", default=5.0)
if WECHAT_ENABLED and not (WECHAT_APP_ID and WECHAT_APP_SECRET):
    raise ImproperlyConfigured("WECHAT_ENABLED needs WECHAT_APP_ID and WECHAT_APP_SECRET.")

# The official account (公众号). Off unless WECHAT_OFFICIAL_APP_ID is set; then the secret and the
# webhook token are required too. An EncodingAESKey turns on safe (encrypted) mode.
WECHAT_OFFICIAL_APP_ID = env("WECHAT_OFFICIAL_APP_ID", default="")
WECHAT_OFFICIAL_APP_SECRET = env("WECHAT_OFFICIAL_APP_SECRET", default="")
WECHAT_OFFICIAL_TOKEN = env("WECHAT_OFFICIAL_TOKEN", default="")
WECHAT_OFFICIAL_ENCODING_AES_KEY = env("WECHAT_OFFICIAL_ENCODING_AES_KEY", default="")
WECHAT_OFFICIAL_ENABLED = bool(WECHAT_OFFICIAL_APP_ID)
if WECHAT_OFFICIAL_ENABLED and not (WECHAT_OFFICIAL_APP_SECRET and WECHAT_OFFICIAL_TOKEN):
    raise ImproperlyConfigured(
        "WECHAT_OFFICIAL_APP_ID is set: WECHAT_OFFICIAL_APP_SECRET and WECHAT_OFFICIAL_TOKEN are needed too."
    )
if WECHAT_OFFICIAL_ENCODING_AES_KEY and len(WECHAT_OFFICIAL_ENCODING_AES_KEY) != 43:
    raise ImproperlyConfigured("WECHAT_OFFICIAL_ENCODING_AES_KEY must be the 43 characters WeChat shows.")

# --- Security (production) ----------------------------------------------------------------------

SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = (
    "portal.views.errors.csrf_failure"  # pages that must be framed opt in with @xframe_options_sameorigin
)

# --- Logging ------------------------------------------------------------------------------------

LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise env.invalid("LOG_LEVEL", LOG_LEVEL, "use DEBUG, INFO, WARNING, ERROR or CRITICAL")
# One time base for every process's log lines (web, worker, beat, gunicorn itself): Beijing time with
# its offset, e.g. 2026-12-07 16:08:00.123+08:00 (wechathhu.logs.Formatter; gunicorn.conf.py uses it too).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"()": "wechathhu.logs.Formatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Outbox: everything sent to the outside world (e-mail, WeChat) -----------------------------
# One mechanism for every sender (wechathhu/core/outbox.py): rows are sent after commit, one at
# a time; transient errors are retried with exponential backoff (base, doubling, capped) up to
# OUTBOX_MAX_ATTEMPTS attempts in all; permanent ones fail at once.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=6)
OUTBOX_RETRY_BACKOFF_SECONDS = env.int("OUTBOX_RETRY_BACKOFF_SECONDS", default=60)
OUTBOX_RETRY_BACKOFF_MAX_SECONDS = env.int("OUTBOX_RETRY_BACKOFF_MAX_SECONDS", default=30 * 60)
# A retry due within this many seconds gets a delayed task of its own; later ones wait for the
# sweep (keep it well under the broker's visibility timeout, 3600 s).
OUTBOX_RETRY_TASK_MAX_COUNTDOWN = env.int("OUTBOX_RETRY_TASK_MAX_COUNTDOWN", default=15 * 60)
# A row being sent is leased for this long: if its worker dies, the sweep sends it again after.
# Must exceed the slowest single call (WECHAT_TIMEOUT, EMAIL_TIMEOUT).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
# The sweep (outbox.sweep, every minute) queues rows due for at least this long (the fast path
# had its chance), at most OUTBOX_SWEEP_LIMIT per model and run.
OUTBOX_SWEEP_GRACE_SECONDS = env.int("OUTBOX_SWEEP_GRACE_SECONDS", default=120)
OUTBOX_SWEEP_LIMIT = env.int("OUTBOX_SWEEP_LIMIT", default=5000)
# Rows still unsent this many hours after they were written are failed instead (stale news).
OUTBOX_GIVE_UP_HOURS = env.int("OUTBOX_GIVE_UP_HOURS", default=48)
# Rows per outbox.deliver task.
OUTBOX_TASK_BATCH = env.int("OUTBOX_TASK_BATCH", default=50)
# Sends per second per channel across all workers (0 = unlimited): channel=rate,…
try:
    OUTBOX_RATES = {
        channel: int(rate)
        for channel, rate in env.dict(
            "OUTBOX_RATES", default={"email": "10", "wechat_mp": "50", "wechat_oa": "50"}
        ).items()
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"OUTBOX_RATES must look like email=10,wechat_mp=50 ({exc}).") from exc

# --- Domains ------------------------------------------------------------------------------------
# Each domain's settings live in its own block below.

# accounts / directory
# At most this many people in the bare array of GET /contacts/ (without ?page=); narrow with search or my=yes.
DIRECTORY_CONTACTS_LIMIT = env.int("DIRECTORY_CONTACTS_LIMIT", default=1000)
# Open registration (POST /auth/register/); new accounts wait for staff approval.
ACCOUNTS_OPEN_REGISTRATION = env.bool("ACCOUNTS_OPEN_REGISTRATION", default=False)
# How long a staff-issued one-time claim code stays valid (seconds; default 14 days).
ACCOUNTS_CLAIM_CODE_TTL = env.int("ACCOUNTS_CLAIM_CODE_TTL", default=14 * 24 * 3600)
# Avatars: largest upload accepted (bytes), largest image (pixels), stored size (square, px).
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=40_000_000)
AVATAR_SIZE = env.int("AVATAR_SIZE", default=512)
# One name in the API schema for the six per-field visibility choices.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["VisibilityEnum"] = "accounts.models.Visibility"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["RegistrationKindEnum"] = (
    "accounts.api.serializers.REGISTRATION_KINDS"
)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["UserKindEnum"] = "accounts.models.UserKind"

# messaging
# One name in the API schema for the kinds of audience a sender picks from (issue 20).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["AudienceTypeEnum"] = "messaging.audiences.AUDIENCE_TYPE_CHOICES"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["TypeEnum"] = "messaging.models.MessageType"
# Recipient rows written per INSERT when a targeted message is sent.
MESSAGING_RECIPIENT_BATCH_SIZE = env.int("MESSAGING_RECIPIENT_BATCH_SIZE", default=2000)
# Recipients listed in GET /api/v1/admin/messages/{id}/detail (the full list is paginated).
MESSAGING_DETAIL_RECIPIENTS = env.int("MESSAGING_DETAIL_RECIPIENTS", default=1000)
# Due messages the periodic publishing step (messaging.publish_due) handles per run.
MESSAGING_PUBLISH_BATCH = env.int("MESSAGING_PUBLISH_BATCH", default=500)
# WeChat subscribe-message delivery of targeted messages (needs WECHAT_ENABLED); empty = off.
MESSAGING_WECHAT_TEMPLATE_ID = env("MESSAGING_WECHAT_TEMPLATE_ID", default="")
# Template keys filled from the message: key=title|content|type|priority|sender|published_at.
MESSAGING_WECHAT_TEMPLATE_FIELDS = env.dict(
    "MESSAGING_WECHAT_TEMPLATE_FIELDS",
    default={"thing1": "title", "thing2": "content", "time3": "published_at"},
)
# Mini-program page the notification opens; {id} is the message id.
MESSAGING_WECHAT_PAGE = env("MESSAGING_WECHAT_PAGE", default="pages/messages/detail?id={id}")
# The outside channels messages may be pushed on (each also needs its own configuration):
# wechat (mini-program subscribe messages), wechat_oa (official-account template messages), email.
MESSAGING_PUSH_CHANNELS = env.list("MESSAGING_PUSH_CHANNELS", default=["wechat", "wechat_oa", "email"])
# Messages below this priority stay in-app (low, normal, high, urgent); urgent ones always go out on
# every channel a recipient has, whatever their quiet hours and follows.
MESSAGING_PUSH_MIN_PRIORITY = env("MESSAGING_PUSH_MIN_PRIORITY", default="normal")
# Official-account template message of a push (needs the WECHAT_OFFICIAL_* settings); empty = off.
MESSAGING_OFFICIAL_TEMPLATE_ID = env("MESSAGING_OFFICIAL_TEMPLATE_ID", default="")
# Its keys, filled from the message: key=title|content|type|priority|sender|published_at.
MESSAGING_OFFICIAL_TEMPLATE_FIELDS = env.dict(
    "MESSAGING_OFFICIAL_TEMPLATE_FIELDS",
    default={"thing1": "title", "thing2": "content", "time3": "published_at"},
)
# The portal page (H5) a pushed message links to; {id} is the message id.
MESSAGING_PAGE_PATH = env("MESSAGING_PAGE_PATH", default="/m/messages/{id}/")
# Daily digest: missed minutes (a restart, a slow beat) are caught up this far back.
MESSAGING_DIGEST_CATCHUP_MINUTES = env.int("MESSAGING_DIGEST_CATCHUP_MINUTES", default=10)
# Message attachments (issue 20): files per message, the largest file in bytes, and the types
# accepted (recognised by their bytes, never their name): pdf, doc, docx, xls, xlsx, ppt, pptx,
# zip, png, jpg, gif, webp.
MESSAGING_ATTACHMENT_MAX_COUNT = env.int("MESSAGING_ATTACHMENT_MAX_COUNT", default=9)
MESSAGING_ATTACHMENT_MAX_BYTES = env.int("MESSAGING_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
MESSAGING_ATTACHMENT_TYPES = env.list(
    "MESSAGING_ATTACHMENT_TYPES",
    default=["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "png", "jpg", "gif", "webp"],
)
# The hot list (GET /api/v1/messages/hot?days=N): the longest window allowed, in days.
MESSAGING_HOT_MAX_DAYS = env.int("MESSAGING_HOT_MAX_DAYS", default=90)

# reservations
# Bookings start and end on this grid (minutes from local midnight) and last MIN..MAX minutes.
RESERVATION_GRID_MINUTES = env.int("RESERVATION_GRID_MINUTES", default=30)
RESERVATION_MIN_MINUTES = env.int("RESERVATION_MIN_MINUTES", default=30)
RESERVATION_MAX_MINUTES = env.int("RESERVATION_MAX_MINUTES", default=180)
# How far ahead a booking may start (days).
RESERVATION_MAX_ADVANCE_DAYS = env.int("RESERVATION_MAX_ADVANCE_DAYS", default=60)
# How many bookings that have not ended yet one user may hold (staff are exempt; 0: no limit).
RESERVATION_MAX_ACTIVE_PER_USER = env.int("RESERVATION_MAX_ACTIVE_PER_USER", default=20)
# Staff may override the rules above from the admin, but no booking ever exceeds this (minutes).
RESERVATION_HARD_MAX_MINUTES = env.int("RESERVATION_HARD_MAX_MINUTES", default=24 * 60)
# Longest window the availability search accepts (days), and the step between offered slots.
RESERVATION_SEARCH_MAX_DAYS = env.int("RESERVATION_SEARCH_MAX_DAYS", default=31)
RESERVATION_SLOT_STEP_MINUTES = env.int("RESERVATION_SLOT_STEP_MINUTES", default=30)
if RESERVATION_GRID_MINUTES <= 0 or RESERVATION_SLOT_STEP_MINUTES % RESERVATION_GRID_MINUTES:
    # Offered slots must start on the grid, or they could not be booked.
    raise ImproperlyConfigured(
        "RESERVATION_SLOT_STEP_MINUTES must be a multiple of RESERVATION_GRID_MINUTES (both > 0)."
    )
# Most occurrences one recurring booking may have.
RESERVATION_SERIES_MAX_OCCURRENCES = env.int("RESERVATION_SERIES_MAX_OCCURRENCES", default=100)
# Bookers get a message-center reminder this many minutes before the start (0 turns it off).
RESERVATION_REMINDER_LEAD_MINUTES = env.int("RESERVATION_REMINDER_LEAD_MINUTES", default=30)
# Hours shown by the admin calendar's day and week grids (local time, whole hours).
RESERVATION_CALENDAR_START_HOUR = env.int("RESERVATION_CALENDAR_START_HOUR", default=7)
RESERVATION_CALENDAR_END_HOUR = env.int("RESERVATION_CALENDAR_END_HOUR", default=23)

# activities
# The clock-in QR code rotates every this many seconds; the previous code is accepted as well.
ACTIVITIES_CLOCKIN_STEP_SECONDS = env.int("ACTIVITIES_CLOCKIN_STEP_SECONDS", default=25)
# Key of the QR codes' HMAC; empty means derived from SECRET_KEY (set it to rotate codes apart).
ACTIVITIES_CLOCKIN_SECRET = env("ACTIVITIES_CLOCKIN_SECRET", default="")
# Typed six-digit clock-in codes (phones without a camera) a user may try, DRF rate syntax.
ACTIVITIES_CLOCKIN_CODE_RATE = env.rate("ACTIVITIES_CLOCKIN_CODE_RATE", default="10/min")
# A clock-in without coordinates to a geofenced activity may use the position the user's WeChat
# last reported to the official account (LOCATION), if reported within this many minutes; 0: never.
ACTIVITIES_GEOFENCE_POSITION_MINUTES = env.int("ACTIVITIES_GEOFENCE_POSITION_MINUTES", default=5)

# repairs
# Photos on a repair request: at most this many, each at most this many bytes (JPEG/PNG/GIF/WebP).
REPAIRS_PHOTO_MAX_COUNT = env.int("REPAIRS_PHOTO_MAX_COUNT", default=4)
REPAIRS_PHOTO_MAX_BYTES = env.int("REPAIRS_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
# Pixels (width x height) a repair photo may have: a small file can decode to gigabytes. Default: the
# avatars' limit.
REPAIRS_PHOTO_MAX_PIXELS = env.int("REPAIRS_PHOTO_MAX_PIXELS", default=AVATAR_MAX_PIXELS)
# Time to solve a request that has no category (categories carry their own).
REPAIRS_DEFAULT_RESPONSE_HOURS = env.int("REPAIRS_DEFAULT_RESPONSE_HOURS", default=48)
# New requests per user (each one mails the category's recipients), DRF rate syntax.
REPAIRS_CREATE_RATE = env.rate("REPAIRS_CREATE_RATE", default="20/hour")
# Solved requests the reporter neither confirms nor reopens are closed after this many days (0: never).
REPAIRS_AUTO_CLOSE_DAYS = env.int("REPAIRS_AUTO_CLOSE_DAYS", default=7)

# guides
# File types staff may upload as guides (extensions; each is also checked by its content).
GUIDES_ALLOWED_EXTENSIONS = env.list(
    "GUIDES_ALLOWED_EXTENSIONS",
    default=["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "png", "jpg", "jpeg", "gif", "webp"],
)
GUIDES_MAX_UPLOAD_SIZE = env.int("GUIDES_MAX_UPLOAD_SIZE", default=50 * 1024 * 1024)
# Larger files are mailed as an expiring download link instead of an attachment.
GUIDES_MAIL_ATTACHMENT_MAX_SIZE = env.int("GUIDES_MAIL_ATTACHMENT_MAX_SIZE", default=10 * 1024 * 1024)
GUIDES_LINK_MAX_AGE = env.int("GUIDES_LINK_MAX_AGE", default=7 * 24 * 3600)

# official (the WeChat official account; the credentials are in the WeChat block above)
# The webhook refuses requests whose timestamp is further than this from the server's clock (s),
# and bodies larger than this (bytes; WeChat's own messages are a few KB).
WECHAT_OFFICIAL_TIMESTAMP_TOLERANCE = env.int("WECHAT_OFFICIAL_TIMESTAMP_TOLERANCE", default=300)
WECHAT_OFFICIAL_MAX_BODY_BYTES = env.int("WECHAT_OFFICIAL_MAX_BODY_BYTES", default=64 * 1024)
# Followers' last known positions are deleted this many days after they were reported; the
# activity geofence only trusts one reported within ACTIVITIES_GEOFENCE_POSITION_MINUTES.
WECHAT_OFFICIAL_LOCATION_RETENTION_DAYS = env.int("WECHAT_OFFICIAL_LOCATION_RETENTION_DAYS", default=30)
# Received events (follows, clicks, job reports) are kept this many days; messages stay with
# their inbox thread.
WECHAT_OFFICIAL_EVENT_RETENTION_DAYS = env.int("WECHAT_OFFICIAL_EVENT_RETENTION_DAYS", default=30)
# Mass sends one follower may receive per calendar month (a service account: 4).
WECHAT_OFFICIAL_MASS_MONTHLY_LIMIT = env.int("WECHAT_OFFICIAL_MASS_MONTHLY_LIMIT", default=4)
# Where the page login (/wechat/oauth/) sends a user when no `next` is given.
WECHAT_OFFICIAL_OAUTH_DEFAULT_NEXT = env("WECHAT_OFFICIAL_OAUTH_DEFAULT_NEXT", default="/m/")
# The H5 login page an unbound follower is sent to (with ?next=…).
WECHAT_OFFICIAL_LOGIN_URL = env("WECHAT_OFFICIAL_LOGIN_URL", default="/m/login/")
# Template message the inbox offers when a follower is outside the 48-hour window; empty = none.
# Fields: key=title|content|time|sender, comma-separated.
WECHAT_OFFICIAL_REPLY_TEMPLATE_ID = env("WECHAT_OFFICIAL_REPLY_TEMPLATE_ID", default="")
WECHAT_OFFICIAL_REPLY_TEMPLATE_FIELDS = env.dict(
    "WECHAT_OFFICIAL_REPLY_TEMPLATE_FIELDS",
    default={"thing1": "title", "thing2": "content", "time3": "time"},
)
# Ask WeChat for each new follower's unionid (only accounts bound to an open platform have one).
WECHAT_OFFICIAL_FETCH_UNIONID = env.bool("WECHAT_OFFICIAL_FETCH_UNIONID", default=False)
# The hot-topics list counts posts of this many days.
WECHAT_OFFICIAL_HOT_TOPIC_DAYS = env.int("WECHAT_OFFICIAL_HOT_TOPIC_DAYS", default=7)

# conversations (issue 14: direct and group chat)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["ConversationKindEnum"] = "conversations.models.ConversationKind"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["ConversationMemberRoleEnum"] = "conversations.models.MemberRole"
# Who may start a conversation with whom; drop a rule to restrict. colleagues: teachers and staff of
# one department; friends: the other person added me as a friend; audiences: a counsellor or head
# teacher and their class's students, a group manager and the group's members (both ways);
# staff: staff with anyone. An existing conversation stays usable.
CONVERSATIONS_START_RULES = env.list(
    "CONVERSATIONS_START_RULES", default=["colleagues", "friends", "audiences", "staff"]
)
CONVERSATIONS_GROUP_MAX_MEMBERS = env.int("CONVERSATIONS_GROUP_MAX_MEMBERS", default=200)
CONVERSATIONS_MESSAGE_MAX_LENGTH = env.int("CONVERSATIONS_MESSAGE_MAX_LENGTH", default=5000)
# Largest picture and file (bytes); file types allowed (extensions, each also checked by content).
CONVERSATIONS_PICTURE_MAX_BYTES = env.int("CONVERSATIONS_PICTURE_MAX_BYTES", default=10 * 1024 * 1024)
CONVERSATIONS_FILE_MAX_BYTES = env.int("CONVERSATIONS_FILE_MAX_BYTES", default=20 * 1024 * 1024)
CONVERSATIONS_FILE_EXTENSIONS = env.list(
    "CONVERSATIONS_FILE_EXTENSIONS",
    default=["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "png", "jpg", "jpeg", "gif", "webp"],
)
# A sender may recall their message for this many seconds.
CONVERSATIONS_RECALL_SECONDS = env.int("CONVERSATIONS_RECALL_SECONDS", default=120)
# POST /api/v1/conversations/send: at most this many recipients at once.
CONVERSATIONS_SEND_MAX_RECIPIENTS = env.int("CONVERSATIONS_SEND_MAX_RECIPIENTS", default=50)
# Presence: online for this many seconds after a ping (clients ping every 60 s); last_seen_at is
# written to the database at most once per CONVERSATIONS_LAST_SEEN_PERSIST_SECONDS per user.
CONVERSATIONS_PRESENCE_ONLINE_SECONDS = env.int("CONVERSATIONS_PRESENCE_ONLINE_SECONDS", default=140)
CONVERSATIONS_LAST_SEEN_PERSIST_SECONDS = env.int("CONVERSATIONS_LAST_SEEN_PERSIST_SECONDS", default=300)
# GET /api/v1/conversations/events waits at most this long for news (long-poll). It holds a worker
# thread meanwhile: with Redis, run gunicorn with the gthread worker class (GUNICORN_WORKER_CLASS,
# GUNICORN_THREADS). 0 = answer at once (plain polling; the default without Redis).
CONVERSATIONS_LONGPOLL_SECONDS = env.int("CONVERSATIONS_LONGPOLL_SECONDS", default=25 if REDIS_URL else 0)
