"""Chengguan settings, read from the environment (see .env.example and README).

Embedded default: SQLite under var/, Celery tasks run eagerly in-process, DEBUG off.
Production: DATABASE_URL=postgres://..., REDIS_URL=redis://..., a real SECRET_KEY,
ALLOWED_HOSTS, CHENGGUAN_PRODUCTION=1 (HTTPS-only cookies, HSTS).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
PRODUCTION = env_bool("CHENGGUAN_PRODUCTION")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("生产模式必须设置 SECRET_KEY 环境变量。")
    # Development only: a fixed key keeps sessions valid across restarts of `make run`.
    SECRET_KEY = "dev-insecure-key-chengguan-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "chengguan.core",
    "chengguan.inspections",
    "chengguan.public",
    "chengguan.workorders",
    "chengguan.regulations",
    "chengguan.documents",
    "chengguan.cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chengguan.core.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chengguan.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "chengguan" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chengguan.core.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "chengguan.wsgi.application"

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'chengguan.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL + a busy timeout lets the embedded server take concurrent requests.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and jobs ---------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "calendar-confirmation": {"task": "core.warn_unconfirmed_calendar", "schedule": timedelta(days=1)},
    "inspections-recompute-tiers": {"task": "inspections.recompute_tiers", "schedule": timedelta(days=1)},
    "inspections-generate-schedule": {"task": "inspections.generate_schedule", "schedule": timedelta(days=1)},
    "workorders-scan-deadlines": {"task": "workorders.scan_deadlines", "schedule": timedelta(minutes=5)},
    "cases-disclosures": {"task": "cases.run_disclosures", "schedule": timedelta(days=1)},
    "cases-deadlines": {"task": "cases.scan_deadlines", "schedule": timedelta(days=1)},
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["chengguan.core.auth.RolePermissionBackend"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))
SESSION_COOKIE_AGE = 12 * 3600

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and evidence storage ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "chengguan" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# The embedded server (`make run`, DEBUG off) serves static files straight from the app dirs.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

EVIDENCE_STORAGE = os.environ.get("EVIDENCE_STORAGE", "filesystem")  # filesystem | s3
EVIDENCE_ROOT = Path(os.environ.get("EVIDENCE_ROOT", VAR_DIR / "evidence"))
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_MB", "200")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(EVIDENCE_ROOT)},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
if EVIDENCE_STORAGE == "s3":
    STORAGES["evidence"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("S3_BUCKET", "chengguan-evidence"),
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID", ""),
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY", ""),
            "region_name": os.environ.get("S3_REGION", "") or None,
            "file_overwrite": False,
            "default_acl": None,
        },
    }
elif EVIDENCE_STORAGE != "filesystem":
    raise ImproperlyConfigured("EVIDENCE_STORAGE 只能是 filesystem 或 s3。")

# Key for personal-data field encryption; defaults to one derived from SECRET_KEY.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")

# --- Working calendar -----------------------------------------------------------------------
# Office hours for periods counted in working hours (工作时), e.g. hotline limits.
OFFICE_HOURS = [
    tuple(span.split("-"))
    for span in env_list("OFFICE_HOURS", "08:30-12:00,13:00-17:30")
]
# Local values for deadline rules the law leaves open (chengguan.core.calendar.DEADLINE_RULES
# marked configurable), e.g. DEADLINE_OVERRIDES=apl_statement=3
DEADLINE_OVERRIDES = {
    code.strip(): int(days) for code, days in (item.split("=", 1) for item in env_list("DEADLINE_OVERRIDES"))
}

# --- Maps -----------------------------------------------------------------------------------
# Empty: the map draws only our own jurisdictions and grids (no tile server). A bureau with an
# intranet tile server sets e.g. http://tiles.intranet/{z}/{x}/{y}.png
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
H3_RESOLUTION = 10
# Seconds between a process's checks that the grid table changed (0: on every lookup).
GEO_INDEX_CHECK_SECONDS = float(os.environ.get("GEO_INDEX_CHECK_SECONDS", "0"))
# An inspection record is accepted only if submitted within this distance (metres) of the
# regulated object: the check that the officers were there (到场核验).
INSPECTION_MAX_DISTANCE_M = float(os.environ.get("INSPECTION_MAX_DISTANCE_M", "300"))

# --- Enforcement ----------------------------------------------------------------------------
# 《行政处罚法》第五十一条: on-the-spot (simple procedure) penalties only for a warning or a fine
# up to 200 yuan (citizen) / 3,000 yuan (organisation); a local rule may set lower limits.
SIMPLE_PROCEDURE_MAX_FINE_PERSON = os.environ.get("SIMPLE_PROCEDURE_MAX_FINE_PERSON", "200")
SIMPLE_PROCEDURE_MAX_FINE_ORG = os.environ.get("SIMPLE_PROCEDURE_MAX_FINE_ORG", "3000")

# Enforcement cases (chengguan.cases). "Large fine" (较大数额罚款) that gives the party the
# right to a hearing (《行政处罚法》第六十三条): set by each province; Shanghai 城管's legal-review
# list uses ≥ 5,000 yuan (person) / ≥ 50,000 yuan (organisation) (domain §1.6, likely).
CASE_HEARING_THRESHOLD_PERSON = os.environ.get("CASE_HEARING_THRESHOLD_PERSON", "5000")
CASE_HEARING_THRESHOLD_ORG = os.environ.get("CASE_HEARING_THRESHOLD_ORG", "50000")
# 《行政处罚法》第六十八条: on-the-spot collection only for fines up to 100 yuan.
CASE_ON_THE_SPOT_COLLECTION_MAX = os.environ.get("CASE_ON_THE_SPOT_COLLECTION_MAX", "100")
# Legal review of every ordinary-procedure case (Pudong's practice, domain §5.3), not only
# where 《行政处罚法》第五十八条 and the major-case list require it.
CASE_LEGAL_REVIEW_ALL = env_bool("CASE_LEGAL_REVIEW_ALL", False)
# Longest single extension of the 90-day decision period (the APL sets none; market-regulation
# model +30 days, unverified for 城管).
CASE_MAX_EXTENSION_DAYS = int(os.environ.get("CASE_MAX_EXTENSION_DAYS", "30"))
# "First offence" window for a party's history (免罚清单 首违不罚 practice; unverified).
CASE_FIRST_OFFENCE_WINDOW_DAYS = int(os.environ.get("CASE_FIRST_OFFENCE_WINDOW_DAYS", "365"))
# Publication (公示) of penalty decisions (cases.services.disclosure; the deadline is the
# configurable rule case_decision_publication). Shanghai: penalty information is published for
# 3 years; simple-procedure penalties and a warning or public criticism alone are not published
# (《上海市优化营商环境条例》第六十五条、第六十七条, domain §5.6).
DISCLOSURE_PERIOD_MONTHS = int(os.environ.get("DISCLOSURE_PERIOD_MONTHS", "36"))
DISCLOSURE_EXCLUDE_SIMPLE = env_bool("DISCLOSURE_EXCLUDE_SIMPLE", True)
DISCLOSURE_EXCLUDE_WARNING_ONLY = env_bool("DISCLOSURE_EXCLUDE_WARNING_ONLY", True)
# Squad leaders are warned this many working days before a pending publication falls due.
DISCLOSURE_WARN_DAYS = int(os.environ.get("DISCLOSURE_WARN_DAYS", "2"))
# The agency as its case documents (文书, chengguan.cases.services.paperwork) print it. Name
# and reconsideration body follow from the law for a district bureau; address and phone print
# as a visible "not set" until configured (a real-looking number could be someone's); head,
# bank and places are unverified placeholders: set them all for the real bureau.
CASE_AGENCY_NAME = os.environ.get("CASE_AGENCY_NAME", "上海市闵行区城市管理行政执法局")
CASE_AGENCY_ADDRESS = os.environ.get("CASE_AGENCY_ADDRESS", "（未设置 CASE_AGENCY_ADDRESS）")
CASE_AGENCY_PHONE = os.environ.get("CASE_AGENCY_PHONE", "（未设置 CASE_AGENCY_PHONE）")
CASE_AGENCY_REPRESENTATIVE = os.environ.get("CASE_AGENCY_REPRESENTATIVE", "本局局长")  # set the head's name
# 《行政复议法》第二十四条: a district department's acts are reviewed by the district government.
CASE_RECONSIDERATION_BODY = os.environ.get("CASE_RECONSIDERATION_BODY", "上海市闵行区人民政府")
# 《行政处罚法》第六十七条 (罚缴分离): where parties pay; unverified wording.
CASE_PAYMENT_BANK = os.environ.get("CASE_PAYMENT_BANK", "上海市非税收入收缴代理银行各营业网点")
# Where seized or preserved items are kept and where collective discussions meet (the models
# do not record them per measure / discussion yet); unverified.
CASE_ITEMS_STORAGE_PLACE = os.environ.get("CASE_ITEMS_STORAGE_PLACE", "本机关暂扣物品保管场所")
CASE_MEETING_PLACE = os.environ.get("CASE_MEETING_PLACE", "本机关会议室")
# Case deadlines falling within this many working days are announced in the handlers' inbox.
CASE_DUE_SOON_WORKING_DAYS = int(os.environ.get("CASE_DUE_SOON_WORKING_DAYS", "3"))

# --- Work orders ----------------------------------------------------------------------------
# Default time limits when no rule in the time-limit table matches (the table, edited by
# administrators, refines them per channel and category). Shanghai 12345 street practice:
# general complaints replied within 5 working days (domain §5.2); the example of
# signing for an order within 2 working hours.
WORKORDER_ACCEPT_HOURS = float(os.environ.get("WORKORDER_ACCEPT_HOURS", "2"))
WORKORDER_DISPATCH_HOURS = float(os.environ.get("WORKORDER_DISPATCH_HOURS", "2"))
WORKORDER_REPLY_DAYS = float(os.environ.get("WORKORDER_REPLY_DAYS", "5"))
WORKORDER_VERIFY_DAYS = float(os.environ.get("WORKORDER_VERIFY_DAYS", "1"))
# Complex items may be extended to 15 working days in all, after approval (domain §5.2).
WORKORDER_MAX_EXTENSION_DAYS = int(os.environ.get("WORKORDER_MAX_EXTENSION_DAYS", "10"))
# A limit falling within this many office hours raises a due-soon notification.
WORKORDER_DUE_SOON_HOURS = float(os.environ.get("WORKORDER_DUE_SOON_HOURS", "4"))
# Below this confidence an automatic classification is only a suggestion for a person.
WORKORDER_MIN_CONFIDENCE = float(os.environ.get("WORKORDER_MIN_CONFIDENCE", "0.6"))
WORKORDER_MAX_TEXT = int(os.environ.get("WORKORDER_MAX_TEXT", "5000"))
# Repeat detection: earlier orders within this distance and time window are compared.
WORKORDER_REPEAT_RADIUS_M = float(os.environ.get("WORKORDER_REPEAT_RADIUS_M", "200"))
WORKORDER_REPEAT_WINDOW_DAYS = int(os.environ.get("WORKORDER_REPEAT_WINDOW_DAYS", "30"))
WORKORDER_REPEAT_MIN_SCORE = float(os.environ.get("WORKORDER_REPEAT_MIN_SCORE", "0.5"))
# A place with this many orders in the window is flagged for supervised handling (督办).
WORKORDER_HOTSPOT_COUNT = int(os.environ.get("WORKORDER_HOTSPOT_COUNT", "5"))
# Orders per intake request (a hotline platform's batch).
WORKORDER_INTAKE_BATCH = int(os.environ.get("WORKORDER_INTAKE_BATCH", "200"))

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "chengguan.core.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["chengguan.core.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "chengguan.core.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "chengguan.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "chengguan.core.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only; an upload endpoint names its multipart parser itself.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "城管执法平台 API",
    "DESCRIPTION": "Chengguan REST API v1. 错误统一格式：{code, message, errors[]}。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",  # tags and operation ids from the segment after it
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui/favicon-32x32.png",
    # Choice sets of fields that share a name across apps ("kind") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "OrgUnitKindEnum": "chengguan.core.choices.OrgUnitKind",
        "ExemptionKindEnum": "chengguan.regulations.choices.ExemptionKind",
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
